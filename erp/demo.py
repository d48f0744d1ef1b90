"""Demo data for an empty database: the host's users, then each module's records."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from .auth.models import Team, User
from .auth.seed import ADMIN, FINANCE, SALES_MANAGER, SALES_REP, SERVICE, ensure_default_roles
from .db import db

DEMO_PASSWORD = "demo1234"  # noqa: S105 - documented in the README; every demo user has it

DEMO_USERS = (
    # username, name, role, in the sales team, locale
    ("admin", "Alice Admin", ADMIN, False, "pt_BR"),
    ("gerente", "Marta Gerente", SALES_MANAGER, True, "pt_BR"),
    ("ana", "Ana Vendas", SALES_REP, True, "pt_BR"),
    ("bruno", "Bruno Vendas", SALES_REP, True, "pt_BR"),
    ("fernanda", "Fernanda Financeiro", FINANCE, False, "pt_BR"),
    ("sergio", "Sérgio Serviços", SERVICE, False, "pt_BR"),
)


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count(User.id)))


def load_demo() -> None:
    """Create the demo users and let every enabled module add its demo records."""
    roles = ensure_default_roles()
    team = Team(name="Equipe Comercial")
    db.session.add(team)
    for username, name, role, in_team, locale in DEMO_USERS:
        user = User(username=username, name=name, email=f"{username}@mosaic.example",
                    locale=locale, team=team if in_team else None, roles=[roles[role]])
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
    db.session.flush()
    for loader in current_app.extensions["erp"].demo_loaders():
        loader.load()
    db.session.commit()
