"""Demo data for an empty database: the demo users, then each module's records.

The host brings one demo user, the administrator; every module's ``DemoLoader`` lists its
own (``users=(DemoUser("ana", "Ana Vendas", "sales_rep", team="Equipe Comercial"), ...)``,
with roles of the module or of its dependencies). All of them are created first, in the
loaders' order, then each loader's ``load()`` runs.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from .auth.models import Team, User
from .auth.seed import ADMIN, ensure_default_roles
from .db import db, refresh_statistics
from .registry import DemoLoader, DemoUser

DEMO_PASSWORD = "demo1234"  # noqa: S105 - documented in the README; every demo user has it
DEMO_DOMAIN = "mosaic.example"  # every demo user's e-mail: <username>@mosaic.example

HOST_USERS = (DemoUser("admin", "Alice Admin", ADMIN),)


def demo_users(registry=None) -> list[DemoUser]:
    """Every demo user, in the order they are created: the host's, then each loader's."""
    registry = registry if registry is not None else current_app.extensions["erp"]
    loaders = registry.items(DemoLoader, check_permission=False)
    return [*HOST_USERS, *(user for loader in loaders for user in loader.users)]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count(User.id)))


def load_demo() -> None:
    """Create the demo users and let every enabled module add its demo records."""
    registry = current_app.extensions["erp"]
    roles = ensure_default_roles(registry)
    teams: dict[str, Team] = {}
    for person in demo_users(registry):
        team = None
        if person.team:
            team = teams.get(person.team)
            if team is None:
                team = teams[person.team] = Team(name=person.team)
                db.session.add(team)
        user = User(username=person.username, name=person.name,
                    email=f"{person.username}@{DEMO_DOMAIN}", locale=person.locale,
                    team=team, roles=[roles[person.role]])
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
    db.session.flush()
    for loader in registry.items(DemoLoader, check_permission=False):
        loader.load()
    db.session.commit()
    refresh_statistics()  # the tables went from empty to filled
