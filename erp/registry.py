"""The shared registry: what modules contribute to the host and to each other.

One :class:`Registry` per app (``app.extensions["erp"]``), filled while modules'
``register()`` functions run and frozen afterwards. Contributions are small frozen
dataclasses. Each kind is kept sorted by ``order``, then by the contributing
module's load position, then by key, so the result never depends on the order in
which files happen to be read; a key used twice within a kind is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class RegistryError(RuntimeError):
    """A contribution was refused (duplicate key, bad value, or registry frozen)."""


class PermissionHolder(Protocol):
    def has_permission(self, permission: str) -> bool: ...


def allowed(user: Any, permission: str | None) -> bool:
    """True if ``user`` may see a contribution guarded by ``permission``."""
    if permission is None:
        return True
    check = getattr(user, "has_permission", None)
    return bool(check and check(permission))


# --- contribution types -------------------------------------------------------


@dataclass(frozen=True)
class Permission:
    """A permission string, and the seeded roles that get it when its module is installed."""

    key: str  # "sales.read"
    label: Any = ""
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlueprintContribution:
    key: str  # the blueprint's name
    blueprint: Any
    url_prefix: str | None = None
    order: int = 100


@dataclass(frozen=True)
class MenuItem:
    key: str  # "crm" — also the name used to mark the active entry
    label: Any  # str or lazy string
    endpoint: str
    permission: str | None = None
    order: int = 100
    icon: str | None = None


@dataclass(frozen=True)
class AccountTab:
    key: str  # "sales" — also the URL: /crm/accounts/<id>/tabs/sales
    label: Any
    render: Callable  # (account, request args) -> HTML fragment
    count: Callable | None = None  # (account) -> int | None, one cheap indexed query
    order: int = 100
    permission: str | None = None


@dataclass(frozen=True)
class AccountStat:
    """A key figure in the account page header (e.g. open receivables)."""

    key: str
    label: Any
    compute: Callable  # (account) -> value
    kind: str = "number"  # "number", "money" or "date": how the page formats the value
    order: int = 100
    permission: str | None = None


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


@dataclass(frozen=True)
class TimelineSource:
    key: str
    kinds: Mapping[str, Any]  # kind -> label, for the type filter
    # (account_id, cursor, limit, kinds) -> at most `limit` TimelineEvents after the cursor
    # (erp.timeline.after_cursor builds the WHERE clause), newest first
    fetch: Callable
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class CreateAction:
    """An entry of the account page's "Create" menu."""

    key: str
    label: Any
    endpoint: str | None = None  # defaults to key; called with account_id=<id>
    permission: str | None = None
    order: int = 100
    icon: str | None = None

    @property
    def target(self) -> str:
        return self.endpoint or self.key


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


@dataclass(frozen=True)
class AdminView:
    key: str  # the model's table name
    model: Any
    category: Any = None
    view_class: Any = None  # a SecureModelView subclass; the default one if None
    name: Any = None
    order: int = 100


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
class ApiBlueprint:
    """A flask-smorest blueprint mounted under /api/v1 (plus its own url_prefix)."""

    key: str  # the blueprint's name
    blueprint: Any
    url_prefix: str = ""
    order: int = 100


@dataclass(frozen=True)
class DemoLoader:
    """Fills an empty database with a module's demo records."""

    key: str
    load: Callable  # () -> None, runs inside the app context, after the host's users exist
    order: int = 100


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
class _Entry:
    module: str
    module_index: int
    item: Any


@dataclass
class Registry:
    """Everything the enabled modules contribute, in a deterministic order."""

    kinds: dict[str, dict[str, _Entry]] = field(default_factory=dict)
    module_order: list[str] = field(default_factory=list)
    current_module: str | None = None
    frozen: bool = False

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

    def add(self, kind: str, item: Any) -> Any:
        self._check_open()
        key = getattr(item, "key", None)
        if not isinstance(key, str) or not key:
            raise RegistryError(f"{kind} contribution needs a non-empty text key, got {key!r}")
        module = self.current_module or "erp"
        index = self.module_order.index(module) if module in self.module_order else -1
        entries = self.kinds.setdefault(kind, {})
        if key in entries:
            raise RegistryError(
                f"duplicate {kind} {key!r} from module {module!r}: "
                f"already registered by module {entries[key].module!r}"
            )
        entries[key] = _Entry(module, index, item)
        return item

    def blueprint(self, blueprint: Any, url_prefix: str | None = None) -> Any:
        self.add("blueprint", BlueprintContribution(blueprint.name, blueprint, url_prefix))
        return blueprint

    def menu_item(self, item: MenuItem) -> MenuItem:
        return self.add("menu item", item)

    def account_tab(self, tab: AccountTab) -> AccountTab:
        return self.add("account tab", tab)

    def account_stat(self, stat: AccountStat) -> AccountStat:
        return self.add("account stat", stat)

    def timeline_source(self, source: TimelineSource) -> TimelineSource:
        return self.add("timeline source", source)

    def create_action(self, action: CreateAction) -> CreateAction:
        return self.add("create action", action)

    def search_provider(self, provider: SearchProvider) -> SearchProvider:
        return self.add("search provider", provider)

    def admin_view(self, model: Any, category: Any = None, view_class: Any = None,
                   name: Any = None, order: int = 100) -> AdminView:
        key = getattr(model, "__tablename__", None) or getattr(model, "__name__", None)
        return self.add("admin view", AdminView(key, model, category, view_class, name, order))

    def api_blueprint(self, blueprint: Any, url_prefix: str = "") -> ApiBlueprint:
        return self.add("api blueprint", ApiBlueprint(blueprint.name, blueprint, url_prefix))

    def dashboard_widget(self, widget: DashboardWidget) -> DashboardWidget:
        return self.add("dashboard widget", widget)

    def report(self, report: Report) -> Report:
        return self.add("report", report)

    def demo_loader(self, load: Callable, order: int = 100) -> DemoLoader:
        key = self.current_module or "erp"
        return self.add("demo loader", DemoLoader(key, load, order))

    def permissions(self, *perms: str | Permission) -> None:
        for perm in perms:
            self.add("permission", Permission(perm) if isinstance(perm, str) else perm)

    # --- reading ---------------------------------------------------------------

    def _sorted(self, kind: str) -> list[Any]:
        entries = self.kinds.get(kind, {}).values()
        ordered = sorted(
            entries,
            key=lambda e: (getattr(e.item, "order", 100), e.module_index, e.item.key),
        )
        return [e.item for e in ordered]

    def items(self, kind: str, user: Any = None, *, check_permission: bool = True) -> list[Any]:
        """The contributions of one kind, ordered; those ``user`` may not see left out.

        Pass ``check_permission=False`` to get all of them (start-up, admin).
        """
        result = self._sorted(kind)
        if check_permission:
            result = [i for i in result if allowed(user, getattr(i, "permission", None))]
        return result

    def module_of(self, kind: str, key: str) -> str:
        return self.kinds[kind][key].module

    def get(self, kind: str, key: str) -> Any | None:
        entry = self.kinds.get(kind, {}).get(key)
        return entry.item if entry else None

    def blueprints(self) -> list[BlueprintContribution]:
        return self._sorted("blueprint")

    def menu_items(self, user: Any) -> list[MenuItem]:
        return self.items("menu item", user)

    def account_tabs(self, user: Any) -> list[AccountTab]:
        return self.items("account tab", user)

    def account_stats(self, user: Any) -> list[AccountStat]:
        return self.items("account stat", user)

    def timeline_sources(self, user: Any) -> list[TimelineSource]:
        return self.items("timeline source", user)

    def create_actions(self, user: Any) -> list[CreateAction]:
        return self.items("create action", user)

    def search_providers(self, user: Any) -> list[SearchProvider]:
        return self.items("search provider", user)

    def api_blueprints(self) -> list[ApiBlueprint]:
        return self._sorted("api blueprint")

    def dashboard_widgets(self, user: Any) -> list[DashboardWidget]:
        return self.items("dashboard widget", user)

    def reports(self, user: Any) -> list[Report]:
        return self.items("report", user)

    def admin_views(self) -> list[AdminView]:
        return self._sorted("admin view")

    def demo_loaders(self) -> list[DemoLoader]:
        return self._sorted("demo loader")

    def all_permissions(self) -> list[Permission]:
        return sorted(self._sorted("permission"), key=lambda p: p.key)

    def install_template_helpers(self, app: Any) -> None:
        """Put the contributed template filters and globals on ``app``'s Jinja environment."""
        for item in self._sorted("template filter"):
            app.jinja_env.filters[item.key] = item.function
        for item in self._sorted("template global"):
            app.jinja_env.globals[item.key] = item.value

    def timeline_kinds(self, user: Any) -> dict[str, Any]:
        kinds: dict[str, Any] = {}
        for source in self.timeline_sources(user):
            kinds.update(source.kinds)
        return kinds
