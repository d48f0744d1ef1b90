"""The shared registry: what modules contribute to the host and to each other.

One :class:`Registry` per app (``app.extensions["erp"]``), filled while modules'
``register()`` functions run and frozen afterwards. A contribution is a small frozen
dataclass with a text ``key``; the registry files it under its class, its *kind*::

    registry.add(MenuItem("notes", _l("Notes"), "notes.index", permission=READ))
    registry.items(MenuItem, current_user)  # what this user may see, in order

Kinds are declared by whoever owns them: the host declares its own at start-up
(:data:`HOST_KINDS`, and the importer), a module declares the ones it owns in its
``register()`` (CRM: ``registry.declare(AccountTab, AccountStat, CreateAction)``) and the
modules that depend on it add items of them. Adding an item of an undeclared kind is an
error. Each kind is read sorted by ``order``, then by the contributing module's load
position, then by key, so the result never depends on the order in which files happen to
be read; a key used twice within a kind is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class RegistryError(RuntimeError):
    """A contribution was refused (undeclared kind, duplicate key, bad value, or frozen)."""


class PermissionHolder(Protocol):
    def has_permission(self, permission: str) -> bool: ...


def allowed(user: Any, permission: str | None) -> bool:
    """True if ``user`` may see a contribution guarded by ``permission``."""
    if permission is None:
        return True
    check = getattr(user, "has_permission", None)
    return bool(check and check(permission))


def visible(user: Any, item: Any) -> bool:
    """True if ``user`` may see ``item``: its ``permission`` (if any) is held, and its
    ``visible(user)`` condition (if any) holds."""
    if not allowed(user, getattr(item, "permission", None)):
        return False
    condition = getattr(item, "visible", None)
    return condition is None or bool(condition(user))


def kind_name(kind: type) -> str:
    """How messages call a kind: ``MenuItem`` -> ``"menu item"``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", kind.__name__).lower()


# --- the host's kinds ---------------------------------------------------------------------

# A role's record scope (the values of erp.auth.models.SCOPE_*).
OWN, TEAM, ALL = "own", "team", "all"


@dataclass(frozen=True)
class Permission:
    """A permission string, and the roles that get it by default when its module is installed.

    ``roles`` names roles of this module or of the modules it depends on (the host's
    ``admin`` holds every permission anyway); a role that does not exist is skipped, and
    gets the permission when the module that brings it is installed.
    """

    key: str  # "sales.read"
    label: Any = ""
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Role:
    """A role a module brings: created (never changed afterwards) when the module is installed.

    What it may do is said by the permissions that name it (``Permission.roles``).
    """

    key: str  # "finance": the role's name
    label: Any  # the role's description, stored in the user's language at creation
    scope: str = OWN  # OWN, TEAM or ALL: the records its users see

    def __post_init__(self):
        if self.scope not in (OWN, TEAM, ALL):
            raise RegistryError(f"role {self.key!r}: scope must be OWN, TEAM or ALL, "
                                f"not {self.scope!r}")


@dataclass(frozen=True)
class WebBlueprint:
    """A Flask blueprint of pages; its name is the key."""

    blueprint: Any
    url_prefix: str | None = None
    order: int = 100

    @property
    def key(self) -> str:
        return self.blueprint.name


@dataclass(frozen=True)
class ApiBlueprint:
    """A flask-smorest blueprint mounted under /api/v1 (plus its own url_prefix)."""

    blueprint: Any
    url_prefix: str = ""
    order: int = 100

    @property
    def key(self) -> str:
        return self.blueprint.name


@dataclass(frozen=True)
class MenuItem:
    key: str  # "crm" — also the name used to mark the active entry
    label: Any  # str or lazy string
    endpoint: str
    permission: str | None = None
    order: int = 100
    icon: str | None = None
    # More blueprints whose pages mark the entry active (its endpoint's own always does).
    blueprints: tuple[str, ...] = ()
    visible: Callable | None = None  # (user) -> bool: shown only when true
    quick_link: bool = True  # also a link on the home page

    @property
    def active_in(self) -> tuple[str, ...]:
        """The blueprints whose pages mark this entry as the current one."""
        return (self.endpoint.split(".")[0], *self.blueprints)


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime  # UTC
    kind: str  # "sales.invoice", "crm.call", ...
    title: str
    url: str | None
    icon: str
    actor: str | None = None
    body: str | None = None
    id: int = 0  # unique within its source: the tie-breaker of keyset paging
    source: str = ""  # filled in by the host: the source's key
    badge: str | None = None  # a short status shown beside the title ("planned")
    # (event) -> the event with its text filled in (title, url, body...), called by the
    # host for the events it shows only: a source returns up to `limit` events, most of
    # which other sources' newer ones push off the page, so formatting waits (issue 15).
    describe: Callable | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class TimelineSource:
    key: str
    kinds: Mapping[str, Any]  # kind -> label, for the type filter
    # (account_id, cursor, limit, kinds) -> at most `limit` TimelineEvents after the cursor
    # (erp.timeline.after_cursor builds the WHERE clause), newest first
    fetch: Callable
    permission: str | None = None
    order: int = 100
    # Kinds every account has once, from its creation on ("account created"): an account
    # with nothing else in it shows these alone (the module contract checks it).
    every_account: frozenset = frozenset()


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    subtitle: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class SearchProvider:
    key: str
    label: Any
    search: Callable  # (query: str, user, limit: int) -> list[SearchResult]
    permission: str | None = None
    order: int = 100
    # What one may type, for the search box's placeholder ("name, CNPJ/CPF, phone, e-mail"):
    # the layout joins the hints of the providers the user may use.
    hint: Any = ""
    # (query: str, user) -> (label, url) or None: what to offer when nothing is found
    # ("Register … as a new account"), the query carried to the form it opens.
    offer: Callable | None = None


@dataclass(frozen=True)
class AdminView:
    """A Flask-Admin view of ``model``, keyed and routed by its table name."""

    model: Any
    category: Any = None
    view_class: Any = None  # a SecureModelView subclass; the default one if None
    name: Any = None
    order: int = 100

    @property
    def key(self) -> str:
        return getattr(self.model, "__tablename__", None) or getattr(self.model, "__name__", "")


@dataclass(frozen=True)
class DashboardWidget:
    """A card on the home page, shown to each user with their own figures."""

    key: str
    label: Any
    render: Callable  # (user) -> HTML fragment (Markup); the user's record scope applies
    permission: str | None = None
    order: int = 100
    width: int = 6  # columns of the 12-column grid on wide screens


@dataclass(frozen=True)
class Report:
    """An entry of the Reports page; the endpoint renders the report (chart, table, CSV)."""

    key: str
    label: Any
    endpoint: str
    description: Any = ""
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class DemoUser:
    """A user of the demo data; every one has the password ``erp.demo.DEMO_PASSWORD``."""

    username: str  # also the e-mail: <username>@mosaic.example
    name: str
    role: str  # a role's key (the module's own, or one of its dependencies')
    team: str | None = None  # a team's name, created if needed
    locale: str = "pt_BR"


@dataclass(frozen=True)
class DemoLoader:
    """Fills an empty database with a module's demo records (key: the module's name).

    The host first creates the ``users`` of every loader, then calls each ``load()`` in
    order, inside the app context.
    """

    key: str
    load: Callable  # () -> None
    order: int = 100
    users: tuple[DemoUser, ...] = ()


@dataclass(frozen=True)
class TemplateFilter:
    """A Jinja filter the host installs on the app's environment after loading the modules."""

    key: str  # the filter's name in templates: {{ value|key }}
    function: Callable


@dataclass(frozen=True)
class TemplateGlobal:
    """A Jinja global (a function, a value or a module of labels) installed like a filter."""

    key: str  # the name in templates: {{ key }}
    value: Any


@dataclass(frozen=True)
class Factory:
    """Makes one record of a module's for tests, through the module's own services.

    ``make(user, **data)`` -> the new record, made as (and owned by) ``user``, inside an app
    context; ``data`` overrides its defaults. The test kit's fixtures use them
    (erp.testing: ``make_account``, ``make_contact``), so the host never imports the
    module that owns the records: without it the fixture skips the test.
    """

    key: str  # what it makes: "account", "contact"
    make: Callable


@dataclass(frozen=True)
class ContractData:
    """A module's records for the contract tests (erp.testing.contract); key: the module.

    ``fill(account, user)`` puts a few of the module's records on ``account`` (an empty
    one, made by the ``"account"`` :class:`Factory`), made as ``user`` (every permission,
    record scope all), through the module's services: enough that each of its account
    tabs with a count counts some, and each of its timeline sources gives events.
    ``events(account, user, count, at=None, kind=None)`` (optional) adds ``count`` events
    to its timeline at once (a bulk insert), one second apart back from now or all at
    ``at``, of one of its kinds (``None``: its first): the contract's ties and its "10 or
    2,000 events cost the same queries". The module that owns the account page also gives
    ``accounts(user)``: the accounts ``user`` may see (``None``: all of them), by id.
    """

    key: str
    fill: Callable
    events: Callable | None = None
    accounts: Callable | None = None


WEBHOOK_ACTIONS = ("create", "update", "delete")  # the audit trail's (erp.audit.models)
_WEBHOOK_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}$")


@dataclass(frozen=True)
class WebhookEvent:
    """An event an admin may subscribe a webhook endpoint to (erp/webhooks).

    ``key`` is ``<module>.<record>.<what>`` ("sales.quote.created"), what the receiver
    reads in the payload's ``event``. With ``table`` and ``action`` the host emits it by
    itself, in the transaction of the change, from the audit trail's entries of that
    audited table ("create", "update" or "delete"), when ``when(changes)`` holds (if
    given; ``changes`` is the entry's ``{field: [old, new]}`` as text, e.g. the status
    becoming "won"). Without them the module emits it where it happens:
    ``erp.webhooks.emit(key, data)``, inside its transaction.
    """

    key: str
    label: Any
    table: str | None = None  # an Audited model's __tablename__
    action: str | None = None  # "create", "update" or "delete"
    when: Callable | None = field(default=None, compare=False)  # (changes) -> bool
    order: int = 100

    def __post_init__(self):
        if not _WEBHOOK_KEY.match(self.key or ""):
            raise RegistryError(f"webhook event {self.key!r}: the key is "
                                f"'<module>.<record>.<what>', lower case")
        if (self.table is None) != (self.action is None):
            raise RegistryError(f"webhook event {self.key!r}: give both table and action, "
                                f"or neither")
        if self.action is not None and self.action not in WEBHOOK_ACTIONS:
            raise RegistryError(f"webhook event {self.key!r}: action must be one of "
                                f"{WEBHOOK_ACTIONS}, not {self.action!r}")


@dataclass(frozen=True)
class CalendarEntry:
    """One event of a user's calendar feed (erp/calendar_feed.py).

    ``uid`` is stable and unique within its source ("crm.action.42": the host makes it
    global); ``start`` is an aware datetime (any zone: the feed shows it in the user's) or
    a ``date`` (an all-day event); ``end`` likewise (``None``: 30 minutes, or the day).
    """

    uid: str
    summary: str
    start: Any  # datetime (aware) or date
    end: Any = None
    description: str | None = None
    url: str | None = None
    location: str | None = None
    categories: tuple[str, ...] = ()
    updated: datetime | None = None  # the record's last change: LAST-MODIFIED


@dataclass(frozen=True)
class CalendarSource:
    """What a module puts in each user's private calendar feed (Preferences → Calendar).

    ``fetch(user, start, end)`` returns the :class:`CalendarEntry` items of ``user``
    between the UTC datetimes ``start`` and ``end`` (the host's window), within the
    user's record scope, in a bounded number of queries (and at most a few hundred items).
    The feed runs without a login session (its token names the user): the source must
    not read ``current_user``.
    """

    key: str
    label: Any
    fetch: Callable
    permission: str | None = None
    order: int = 100


# What a merge joins: two accounts, or two contacts (issue 18).
MERGE_ACCOUNT, MERGE_CONTACT = "account", "contact"


@dataclass(frozen=True)
class MergeHandler:
    """How a module's records follow when two accounts (or two contacts) are merged.

    ``merged`` is the record merged away (kept, archived, "merged into" ``survivor``);
    every record of the module that points to it moves to ``survivor`` in the merge's
    transaction. A merge is refused while an enabled module has a table with a foreign
    key to the merged kind's table and no handler of that kind (its rows would stay
    behind on the archived record: :func:`erp.merging.unsupported`).
    :func:`erp.merging.moving` builds a handler that moves foreign-key columns, which is
    all most modules need.

    * ``preview(survivor, merged)`` -> lines shown before the merge ("3 quotes");
    * ``conflicts(survivor, merged)`` -> messages that refuse the merge (``[]``: none);
    * ``move(survivor, merged)`` -> the log of what moved (JSON: ids), kept for the undo;
    * ``undo(survivor, merged, log)`` puts back what ``move`` logged (within 30 days).
    """

    key: str  # "sales.account": unique among all handlers
    kind: str  # MERGE_ACCOUNT or MERGE_CONTACT
    preview: Callable
    move: Callable
    undo: Callable
    conflicts: Callable | None = None
    order: int = 100

    def __post_init__(self):
        if self.kind not in (MERGE_ACCOUNT, MERGE_CONTACT):
            raise RegistryError(f"merge handler {self.key!r}: kind must be MERGE_ACCOUNT or "
                                f"MERGE_CONTACT, not {self.kind!r}")


# Declared by the host at start-up (erp.create_app), with erp.imports' Importer.
HOST_KINDS = (Permission, Role, WebBlueprint, ApiBlueprint, MenuItem, TimelineSource,
              SearchProvider, AdminView, DashboardWidget, Report, DemoLoader, TemplateFilter,
              TemplateGlobal, Factory, ContractData, WebhookEvent, CalendarSource,
              MergeHandler)

HOST = "erp"  # the "module" of what the host itself declares and contributes


# --- the registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    module: str
    module_index: int
    item: Any


@dataclass
class Registry:
    """Everything the enabled modules contribute, by kind, in a deterministic order."""

    _entries: dict[type, dict[str, _Entry]] = field(default_factory=dict)
    _owners: dict[type, str] = field(default_factory=dict)
    module_order: list[str] = field(default_factory=list)
    current_module: str | None = None
    frozen: bool = False
    # Once frozen, each kind's contributions in order, sorted once (items() runs several
    # times a request: the menu, the search box's hints, a page's tabs).
    _ordered: dict[type, tuple] = field(default_factory=dict, repr=False)

    # --- writing ---------------------------------------------------------------

    def begin_module(self, name: str) -> None:
        self._check_open()
        if name not in self.module_order:
            self.module_order.append(name)
        self.current_module = name

    def end_module(self) -> None:
        self.current_module = None

    def freeze(self) -> None:
        self.frozen = True
        self.current_module = None

    def _check_open(self) -> None:
        if self.frozen:
            raise RegistryError("the registry is frozen: contributions are made in register()")

    def declare(self, *kinds: type) -> None:
        """Open kinds of contribution (classes) owned by the current module (or the host)."""
        self._check_open()
        owner = self.current_module or HOST
        for kind in kinds:
            if not isinstance(kind, type):
                raise RegistryError(f"a kind is a class, not {kind!r}")
            if kind in self._owners:
                raise RegistryError(f"{kind.__name__} is already declared, "
                                    f"by module {self._owners[kind]!r}")
            self._owners[kind] = owner
            self._entries[kind] = {}

    def add(self, *items: Any) -> None:
        """File each item under its class, which must be a declared kind."""
        self._check_open()
        module = self.current_module or HOST
        index = self.module_order.index(module) if module in self.module_order else -1
        for item in items:
            kind = type(item)
            entries = self._entries.get(kind)
            if entries is None:
                raise RegistryError(
                    f"{kind.__name__} is not a declared kind of contribution (the module that "
                    f"owns it declares it: is that module a dependency, and enabled?)")
            key = getattr(item, "key", None)
            if not isinstance(key, str) or not key:
                raise RegistryError(f"{kind_name(kind)} contribution needs a non-empty text "
                                    f"key, got {key!r}")
            if key in entries:
                raise RegistryError(
                    f"duplicate {kind_name(kind)} {key!r} from module {module!r}: "
                    f"already registered by module {entries[key].module!r}"
                )
            entries[key] = _Entry(module, index, item)

    # --- reading ---------------------------------------------------------------

    @staticmethod
    def _check_kind(kind: Any) -> None:
        if not isinstance(kind, type):
            raise RegistryError(f"a kind is a class, not {kind!r}")

    def _known(self, kind: type) -> dict[str, _Entry]:
        self._check_kind(kind)
        entries = self._entries.get(kind)
        if entries is None:
            name = getattr(kind, "__name__", repr(kind))
            raise RegistryError(f"{name} is not a declared kind of contribution")
        return entries

    def items(self, kind: type, user: Any = None, *, check_permission: bool = True) -> list:
        """The contributions of one kind, ordered; those ``user`` may not see left out.

        Pass ``check_permission=False`` to get all of them (start-up, admin). A kind no
        enabled module declared has none.
        """
        self._check_kind(kind)
        ordered = self._ordered.get(kind)
        if ordered is None:
            ordered = tuple(e.item for e in sorted(
                self._entries.get(kind, {}).values(),
                key=lambda e: (getattr(e.item, "order", 100), e.module_index, e.item.key),
            ))
            if self.frozen:
                self._ordered[kind] = ordered
        if check_permission:
            return [i for i in ordered if visible(user, i)]
        return list(ordered)

    def get(self, kind: type, key: str) -> Any | None:
        """The contribution of ``kind`` with ``key``, or ``None``."""
        self._check_kind(kind)
        entry = self._entries.get(kind, {}).get(key)
        return entry.item if entry else None

    def module_of(self, kind: type, key: str) -> str:
        """The name of the module that contributed it (``"erp"``: the host)."""
        entries = self._known(kind)
        if key not in entries:
            raise KeyError(f"no {kind_name(kind)} {key!r}")
        return entries[key].module

    def kind(self, name: str) -> type | None:
        """The declared kind whose class is called ``name`` (``"AccountTab"``), or ``None``:
        how code that may not import a kind's owner (the host's contract tests) reads it."""
        return next((kind for kind in self._owners if kind.__name__ == name), None)

    def declared(self, kind: type) -> bool:
        """Whether some enabled module (or the host) declared ``kind``."""
        self._check_kind(kind)
        return kind in self._owners

    def owner_of(self, kind: type) -> str:
        """The module that declared ``kind`` (``"erp"``: the host)."""
        if kind not in self._owners:
            raise RegistryError(f"{kind.__name__} is not a declared kind of contribution")
        return self._owners[kind]

    @property
    def modules(self) -> tuple[str, ...]:
        """The enabled modules, in load order."""
        return tuple(self.module_order)

    def install_template_helpers(self, app: Any) -> None:
        """Put the contributed template filters and globals on ``app``'s Jinja environment."""
        for item in self.items(TemplateFilter, check_permission=False):
            app.jinja_env.filters[item.key] = item.function
        for item in self.items(TemplateGlobal, check_permission=False):
            app.jinja_env.globals[item.key] = item.value
