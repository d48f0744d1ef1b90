"""The module contract's world and helpers (tests/erp/test_module_contract.py).

The world is the demo data of every enabled module (``erp.demo.load_demo``: whatever the
modules bring, so a new module's records are in it without a line here), CRM's account
page being where most contributions show, plus users made for the contract:

* ``contract_all`` — a role holding every registered permission, record scope "all", no
  admin;
* ``contract_without:<permission>`` — the same role without that one permission, one user
  per registered permission;
* ``contract_admin`` — an admin (the admin interface is for admins only).

Each has an API token. An empty account (nothing of any module) is made besides the
demo's, and actions at one instant on the fullest account give the timeline ties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask_login import login_user
from sqlalchemy import insert, select

from erp.api.tokens import create_token
from erp.auth.models import SCOPE_ALL, Role, User
from erp.db import db
from erp.demo import load_demo
from erp.registry import DemoLoader, Permission, TimelineSource
from modules.crm.kinds import AccountStat, AccountTab, CreateAction
from modules.crm.models import Account, Action
from modules.crm.services.accounts import create_account
from tests.conftest import password_hash

ALL, ADMIN = "contract_all", "contract_admin"
T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)

# How the account page shows the contributions of CRM's own kinds.
PAGE_KINDS = {AccountTab: 'data-tab="{}"', AccountStat: 'data-stat="{}"',
              CreateAction: 'data-create="{}"'}


def without(permission: str) -> str:
    """The name of the user holding every permission but ``permission``."""
    return f"contract_without:{permission}"


def registry(app):
    return app.extensions["erp"]


def every(app, kind) -> list:
    """Every contribution of ``kind``, whoever may see it."""
    return registry(app).items(kind, None, check_permission=False)


def contributions(app, kind) -> list[tuple[str, object]]:
    """(module, item) of every contribution of ``kind``, in the registry's order."""
    reg = registry(app)
    return [(reg.module_of(kind, item.key), item) for item in every(app, kind)]


def module_permissions(app, module: str) -> set[str]:
    """The permissions ``module`` and the modules it depends on register (the host's own
    contributions serve every module: all of them)."""
    modules = {m.name: m for m in app.extensions["erp_modules"]}
    if module not in modules:
        return {perm.key for perm in every(app, Permission)}
    wanted, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += list(modules[name].manifest.depends) if name in modules else []
    return {perm.key for owner, perm in contributions(app, Permission) if owner in wanted}


def has_demo_data(app, module: str) -> bool:
    return any(owner == module for owner, _loader in contributions(app, DemoLoader))


def page_markers(app, module: str) -> list[str]:
    """What a module's contributions look like on the account page."""
    markers = [pattern.format(item.key) for kind, pattern in PAGE_KINDS.items()
               for owner, item in contributions(app, kind) if owner == module]
    markers += [f'value="{kind}"' for owner, source in contributions(app, TimelineSource)
                if owner == module for kind in source.kinds]
    return markers


# --- the world ----------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, int] = field(default_factory=dict)  # name -> id
    tokens: dict[str, str] = field(default_factory=dict)  # name -> API token
    permissions: list[str] = field(default_factory=list)
    demo_users: list[str] = field(default_factory=list)  # the demo's usernames
    accounts: list[int] = field(default_factory=list)  # the demo's accounts
    empty_account: int = 0
    fullest_account: int = 0  # the most records in the tabs, and the timeline's ties
    full_for_tab: dict[str, int] = field(default_factory=dict)  # tab -> its fullest account
    full_for_source: dict[str, int] = field(default_factory=dict)  # source -> fullest


def add_actions(account_id: int, user_id: int, count: int, *, at=None, kind="call") -> None:
    """Bulk-insert ``count`` done actions (a timeline's bulk), one second apart, or all
    at ``at``."""
    db.session.execute(insert(Action), [
        {"account_id": account_id, "kind": kind, "at": at or T0 - timedelta(seconds=i),
         "user_id": user_id, "description": f"#{i}", "done": True, "created_at": T0,
         "updated_at": T0}
        for i in range(count)])
    db.session.commit()


def new_account(app, world: World, legal_name: str) -> int:
    """An account of the contract's all-permission user, with nothing in it."""
    with app.app_context():
        user = db.session.get(User, world.users[ALL])
        account_id = create_account({"legal_name": legal_name}, user=user,
                                    confirm_duplicates=True).id
        db.session.remove()
    return account_id


def _contract_users(app, world: World) -> None:
    permissions = sorted(p.key for p in every(app, Permission))
    world.permissions = permissions
    grants = {ALL: permissions, **{without(p): [q for q in permissions if q != p]
                                   for p in permissions}}
    made = {}
    for name, granted in grants.items():
        role = Role(name=name, description=name, scope=SCOPE_ALL, is_admin=False,
                    permissions=granted)
        made[name] = User(username=name, name=name, email=f"{name.replace(':', '-')}@x.example",
                          roles=[role], password_hash=password_hash())
    admin_role = Role(name=ADMIN, description=ADMIN, scope=SCOPE_ALL, is_admin=True,
                      permissions=[])
    made[ADMIN] = User(username=ADMIN, name=ADMIN, email="contract-admin@x.example",
                       roles=[admin_role], password_hash=password_hash())
    db.session.add_all(made.values())
    db.session.commit()
    world.users.update({name: user.id for name, user in made.items()})
    for name, user in made.items():
        world.tokens[name] = create_token(user, "contract")[1]


def _fullest(app, world: World) -> None:
    """For each tab with a count, the account where it counts most for the all-permission
    user (signed in: counts follow the user's scope); the fullest account overall."""
    accounts = db.session.scalars(select(Account).where(Account.id.in_(world.accounts))
                                  .order_by(Account.id)).all()
    totals = dict.fromkeys(world.accounts, 0)
    for tab in every(app, AccountTab):
        if tab.count is None:
            continue
        counts = {account.id: tab.count(account) or 0 for account in accounts}
        world.full_for_tab[tab.key] = max(counts, key=lambda a: (counts[a], -a))
        for account_id, value in counts.items():
            totals[account_id] += value
    world.fullest_account = max(totals, key=lambda a: (totals[a], -a))
    for tab in every(app, AccountTab):
        world.full_for_tab.setdefault(tab.key, world.fullest_account)


def _sources(app, world: World) -> None:
    for source in every(app, TimelineSource):
        sizes = {account_id: len(source.fetch(account_id, None, 1000, sorted(source.kinds)))
                 for account_id in world.accounts}
        world.full_for_source[source.key] = max(sizes, key=lambda a: (sizes[a], -a))


def build_world(app) -> World:
    """Create the world (in app and request contexts of its own) and return the ids."""
    world = World()
    with app.app_context():
        load_demo()
        world.demo_users = list(db.session.scalars(select(User.username).order_by(User.id)))
        world.accounts = list(db.session.scalars(select(Account.id).order_by(Account.id)))
        _contract_users(app, world)
    world.empty_account = new_account(app, world, "Conta Vazia do Contrato")
    with app.app_context(), app.test_request_context():
        login_user(db.session.get(User, world.users[ALL]))
        _fullest(app, world)
        # Ties: three actions at one instant, thirty at another; notes besides calls.
        someone = world.users[ALL]
        add_actions(world.fullest_account, someone, 3, at=T0 + timedelta(days=1))
        add_actions(world.fullest_account, someone, 30, at=T0)
        add_actions(world.fullest_account, someone, 20)
        add_actions(world.fullest_account, someone, 2, kind="note")
        _sources(app, world)
        db.session.remove()
    return world
