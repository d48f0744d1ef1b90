"""The world of the contract tests (erp.testing.contract), read from the registry only.

The world is the demo data of every enabled module (``erp.demo.load_demo``: whatever the
modules bring), plus, for each module that registers its :class:`erp.registry.ContractData`,
an account holding that module's records (and those of the modules it depends on, made
first), plus users made for the contract:

* ``contract_all`` — a role holding every registered permission, record scope "all", no
  admin;
* ``contract_without:<permission>`` — the same role without that one permission, one user
  per registered permission;
* ``contract_admin`` — an admin (the admin interface is for admins only).

Each has an API token. An empty account (nothing of any module) is made besides, and
events at one instant on the fullest account (the ``events`` of a module's ContractData)
give the timeline ties.

The host never imports a module: the account page's kinds are found by their names
(``registry.kind("AccountTab")``), accounts are made by the ``"account"`` Factory and read
through the ContractData of the module that owns the account page (CRM). Without those,
the world has no accounts and the account page's checks have no case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask_login import login_user
from sqlalchemy import select

from ..api.tokens import create_token
from ..auth.models import SCOPE_ALL, Role, User
from ..db import db
from ..demo import load_demo
from ..registry import ContractData, DemoLoader, Factory, Permission, TimelineSource
from .app import password_hash

ALL, ADMIN = "contract_all", "contract_admin"
T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
# CRM's account page (the module that declares the AccountTab kind serves it).
ACCOUNT_PAGE = "/crm/accounts/{}"
# How the account page shows the contributions of its kinds, by the kind's name.
PAGE_KIND_NAMES = {"AccountTab": 'data-tab="{}"', "AccountStat": 'data-stat="{}"',
                   "CreateAction": 'data-create="{}"'}


def without(permission: str) -> str:
    """The name of the user holding every permission but ``permission``."""
    return f"contract_without:{permission}"


def registry(app):
    return app.extensions["erp"]


def kind_named(app, name: str) -> type | None:
    """A declared kind by its class name (``"AccountTab"``), or None when no enabled
    module declares it."""
    return registry(app).kind(name)


def page_kinds(app) -> dict[type, str]:
    """The account page's kinds that are declared, and how the page marks their items."""
    return {kind: pattern for name, pattern in PAGE_KIND_NAMES.items()
            if (kind := kind_named(app, name)) is not None}


def every(app, kind) -> list:
    """Every contribution of ``kind`` (a class, or a kind's name), whoever may see it."""
    if isinstance(kind, str):
        kind = kind_named(app, kind)
        if kind is None:
            return []
    return registry(app).items(kind, None, check_permission=False)


def contributions(app, kind) -> list[tuple[str, object]]:
    """(module, item) of every contribution of ``kind``, in the registry's order."""
    if isinstance(kind, str):
        kind = kind_named(app, kind)
        if kind is None:
            return []
    reg = registry(app)
    return [(reg.module_of(kind, item.key), item) for item in every(app, kind)]


def modules(app) -> dict:
    """The enabled modules (erp.modules.LoadedModule), by name, in load order."""
    return {module.name: module for module in app.extensions["erp_modules"]}


def closure(app, module: str) -> list[str]:
    """``module`` and the modules it depends on, directly or not, in load order."""
    loaded = modules(app)
    wanted, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += list(loaded[name].manifest.depends) if name in loaded else []
    return [name for name in loaded if name in wanted]


def module_permissions(app, module: str) -> set[str]:
    """The permissions ``module`` and the modules it depends on register (the host's own
    contributions serve every module: all of them)."""
    if module not in modules(app):
        return {perm.key for perm in every(app, Permission)}
    wanted = set(closure(app, module))
    return {perm.key for owner, perm in contributions(app, Permission) if owner in wanted}


def has_demo_data(app, module: str) -> bool:
    return any(owner == module for owner, _loader in contributions(app, DemoLoader))


def contract_data(app, module: str) -> ContractData | None:
    return registry(app).get(ContractData, module)


def account_keeper(app) -> ContractData | None:
    """The ContractData that reads the account page's accounts (CRM's), if any."""
    return next((item for item in every(app, ContractData) if item.accounts), None)


def page_markers(app, module: str) -> list[str]:
    """What a module's contributions look like on the account page."""
    markers = [pattern.format(item.key) for kind, pattern in page_kinds(app).items()
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
    data_account: dict[str, int] = field(default_factory=dict)  # module -> its records'


def new_account(app, world: World, legal_name: str) -> int:
    """An account of the contract's all-permission user, with nothing in it."""
    with app.app_context():
        user = db.session.get(User, world.users[ALL])
        account_id = registry(app).get(Factory, "account").make(user, legal_name=legal_name).id
        db.session.remove()
    return account_id


def add_events(app, world: World, module: str, account_id: int, count: int, **options) -> None:
    """``count`` timeline events of ``module`` at once on the account (its ContractData's
    ``events``), made by the all-permission user."""
    with app.app_context():
        user = db.session.get(User, world.users[ALL])
        account = get_account(app, account_id)
        contract_data(app, module).events(account, user, count, **options)
        db.session.remove()


def get_account(app, account_id: int):
    """The account object (as tabs and stats get it), inside an app context."""
    keeper = account_keeper(app)
    for account in keeper.accounts(None):
        if account.id == account_id:
            return account
    raise LookupError(f"no account {account_id}")


def event_modules(app) -> list[str]:
    """The modules whose ContractData can add timeline events in bulk."""
    return [item.key for item in every(app, ContractData) if item.events is not None]


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


def _data_accounts(app, world: World) -> None:
    """For each module with ContractData, an account with its records: those of the
    modules it depends on first, then its own."""
    for module in modules(app):
        if contract_data(app, module) is None:
            continue
        account_id = new_account(app, world, f"Conta de Contrato {module}")
        with app.app_context():
            user = db.session.get(User, world.users[ALL])
            for name in closure(app, module):
                filler = contract_data(app, name)
                if filler is not None:
                    filler.fill(get_account(app, account_id), user)
            db.session.remove()
        world.data_account[module] = account_id


def _fullest(app, world: World) -> None:
    """For each tab with a count, the account where it counts most for the all-permission
    user (signed in: counts follow the user's scope); the fullest account overall."""
    accounts = [a for a in account_keeper(app).accounts(None) if a.id in set(world.accounts)]
    totals = dict.fromkeys(world.accounts, 0)
    for tab in every(app, "AccountTab"):
        if tab.count is None:
            continue
        counts = {account.id: tab.count(account) or 0 for account in accounts}
        world.full_for_tab[tab.key] = max(counts, key=lambda a: (counts[a], -a))
        for account_id, value in counts.items():
            totals[account_id] += value
    world.fullest_account = max(totals, key=lambda a: (totals[a], -a))
    for tab in every(app, "AccountTab"):
        world.full_for_tab.setdefault(tab.key, world.fullest_account)


def _sources(app, world: World) -> None:
    for source in every(app, TimelineSource):
        sizes = {account_id: len(source.fetch(account_id, None, 1000, sorted(source.kinds)))
                 for account_id in world.accounts}
        world.full_for_source[source.key] = max(sizes, key=lambda a: (sizes[a], -a))


def second_kind(app, module: str) -> str | None:
    """Another kind of the module's first timeline source than its first (the kind filter
    then has two on the fullest account), or None."""
    for owner, source in contributions(app, TimelineSource):
        if owner == module and len(source.kinds) > 1:
            return sorted(source.kinds)[1]
    return None


def build_world(app) -> World:
    """Create the world (in app and request contexts of its own) and return the ids."""
    world = World()
    with app.app_context():
        load_demo()
        world.demo_users = list(db.session.scalars(select(User.username).order_by(User.id)))
        keeper = account_keeper(app)
        world.accounts = [a.id for a in keeper.accounts(None)] if keeper else []
        _contract_users(app, world)
        db.session.remove()
    if not world.accounts or registry(app).get(Factory, "account") is None:
        return world  # no account page: only the checks that need none apply
    world.empty_account = new_account(app, world, "Conta Vazia do Contrato")
    with app.app_context(), app.test_request_context():
        login_user(db.session.get(User, world.users[ALL]))
        _fullest(app, world)
        db.session.remove()
    # Ties: three events at one instant, thirty at another; others besides; of a second kind.
    for module in event_modules(app):
        add_events(app, world, module, world.fullest_account, 3, at=T0 + timedelta(days=1))
        add_events(app, world, module, world.fullest_account, 30, at=T0)
        add_events(app, world, module, world.fullest_account, 20)
        if (kind := second_kind(app, module)) is not None:
            add_events(app, world, module, world.fullest_account, 2, kind=kind)
    _data_accounts(app, world)
    with app.app_context(), app.test_request_context():
        login_user(db.session.get(User, world.users[ALL]))
        _sources(app, world)
        db.session.remove()
    return world
