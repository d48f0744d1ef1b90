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


def _add_users(people, roles, teams: dict[str, Team], skip_existing: bool = False) -> list[str]:
    """Create the demo users ``people`` (their teams too); the user names created."""
    existing = set()
    if skip_existing:
        names = [person.username for person in people]
        existing = set(db.session.scalars(select(User.username).where(User.username.in_(names))))
    created = []
    for person in people:
        if person.username in existing:
            continue
        team = None
        if person.team:
            team = teams.get(person.team)
            if team is None and skip_existing:
                team = db.session.scalar(select(Team).where(Team.name == person.team))
            if team is None:
                team = Team(name=person.team)
                db.session.add(team)
            teams[person.team] = team
        user = User(username=person.username, name=person.name,
                    email=f"{person.username}@{DEMO_DOMAIN}", locale=person.locale,
                    team=team, roles=[roles[person.role]])
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        created.append(person.username)
    db.session.flush()
    return created


def load_demo() -> None:
    """Create the demo users and let every enabled module add its demo records."""
    registry = current_app.extensions["erp"]
    roles = ensure_default_roles(registry)
    _add_users(demo_users(registry), roles, {})
    for loader in registry.items(DemoLoader, check_permission=False):
        loader.load()
    db.session.commit()
    refresh_statistics()  # the tables went from empty to filled


def module_loaders(name: str, registry=None) -> list[DemoLoader]:
    """Module ``name``'s demo loaders (one, keyed by its name, as a rule)."""
    registry = registry if registry is not None else current_app.extensions["erp"]
    return [loader for loader in registry.items(DemoLoader, check_permission=False)
            if registry.module_of(DemoLoader, loader.key) == name]


def load_module_demo(name: str) -> list[str]:
    """Add module ``name``'s demo to a database in use (``flask --app erp module demo NAME``):
    its loaders' users that do not exist yet, then each loader's ``load()``. Returns the
    user names created; a module without a loader adds nothing."""
    registry = current_app.extensions["erp"]
    loaders = module_loaders(name, registry)
    roles = ensure_default_roles(registry)
    created = _add_users([person for loader in loaders for person in loader.users], roles, {},
                         skip_existing=True)
    for loader in loaders:
        loader.load()
    db.session.commit()
    refresh_statistics()
    return created
