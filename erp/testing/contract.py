"""The module contract: the checks the host applies to every enabled module, reusable.

Run them against the modules your test apps enable, with the test kit's plugin
(:mod:`erp.testing.plugin`), either with ``pytest --erp-contract`` or from a test file::

    from erp.testing.contract import *  # noqa: F403 (the contract's fixtures and tests)

Each contribution read from the registry is a case of its own (named ``module:key``), so a
new module, or a new contribution, is tested without a line: menu items, account tabs,
account stats, Create entries, timeline sources, search providers, dashboard widgets,
reports, admin views and the operations of every API blueprint in the OpenAPI document.
For each:

* a user holding every permission (``contract_all``) gets it: the entry drawn, the tab
  rendered on a full account, on the account holding its module's own records (the
  module's :class:`erp.registry.ContractData`) and on an empty one, its count matching
  the fragment's ``data-count``, the source's cursor, ties and kind filter right, the
  provider answering, the report and the admin view opening (the admin's), the API
  operation answering something else than 403;
* a user holding every permission but the contribution's own
  (``contract_without:<permission>``) gets neither it nor a trace of it. A non-admin gets
  none of the admin.

Besides: the account page and its timeline cost the same queries for 10 or 2,000 events;
a disabled module leaves no trace on it; the migrations build a schema equal to the
models, go down to base and up again; every string of each module is translated in its
own pt-BR catalog, wherever the module is installed; each module's API operations (found
in the OpenAPI document from the module's ApiBlueprints) are fuzzed with schemathesis.

The world (demo data, ContractData accounts, users: :mod:`erp.testing.contract_world`) is
built once per test file; the tests that may write (API) run last. The account page's
checks apply when a module declaring its kinds (CRM) is enabled.
"""

from __future__ import annotations

import functools
import json
import re

import pytest
from flask import url_for
from sqlalchemy import func, select

from ..auth.models import User
from ..db import db
from ..registry import (
    MERGE_ACCOUNT,
    MERGE_CONTACT,
    ApiBlueprint,
    ContractData,
    DashboardWidget,
    Factory,
    MenuItem,
    MergeHandler,
    Report,
    SearchProvider,
    TimelineSource,
    visible,
)
from ..timeline import Cursor, fetch_page
from .app import base_config, empty_tables, login_as
from .contract_checks import (
    api_operations,
    catalog_cases,
    check_api_operation,
    check_catalog,
    check_downgrade_and_upgrade,
    check_migrated_schema,
    fuzz_operations,
)
from .contract_world import (
    ACCOUNT_PAGE,
    ADMIN,
    ALL,
    add_events,
    build_world,
    contract_data,
    contributions,
    event_modules,
    every,
    has_demo_data,
    modules,
    new_account,
    page_kinds,
    page_markers,
    registry,
    without,
)
from .queries import queries_for

__all__ = [
    "_clean_tables", "clients", "contract_world", "pytest_generate_tests",
    "test_account_stat_leaves_no_trace_without_its_permission",
    "test_account_stat_shows_for_a_user_with_its_permission",
    "test_account_tab_leaves_no_trace_without_its_permission",
    "test_account_tab_renders_with_its_modules_data_and_its_count_matches",
    "test_account_tab_renders_on_a_full_and_an_empty_account_and_its_count_matches",
    "test_a_disabled_module_leaves_no_trace",
    "test_admin_view_is_refused_to_a_user_with_every_permission_but_no_admin",
    "test_admin_view_opens_for_an_admin",
    "test_create_entry_leaves_no_trace_without_its_permission",
    "test_create_entry_shows_and_its_form_opens_for_a_user_with_its_permission",
    "test_dashboard_widget_is_drawn_on_home_for_a_user_with_its_permission",
    "test_dashboard_widget_leaves_no_trace_without_its_permission",
    "test_every_string_of_the_module_is_translated_to_pt_br",
    "test_menu_item_is_drawn_for_a_user_with_its_permission",
    "test_menu_item_leaves_no_trace_without_its_permission",
    "test_migrated_schema_equals_the_models",
    "test_migrations_go_down_to_base_and_up_again",
    "test_module_with_account_page_contributions_declares_its_contract_data",
    "test_module_records_follow_a_merge_and_come_back_on_undo",
    "test_page_and_timeline_cost_the_same_for_10_or_2000_events",
    "test_report_is_listed_and_opens_for_a_user_with_its_permission",
    "test_report_leaves_no_trace_without_its_permission",
    "test_search_provider_answers_a_user_with_its_permission",
    "test_search_provider_leaves_no_trace_without_its_permission",
    "test_the_account_page_shows_each_demo_user_what_their_roles_allow",
    "test_the_contract_covers_the_session_apps_modules",
    "test_timeline_source_events_show_for_a_user_with_its_permission",
    "test_timeline_source_honours_the_cursor_ties_and_the_kind_filter",
    "test_timeline_source_leaves_no_trace_without_its_permission",
    "test_walking_the_whole_timeline_gives_every_event_once",
    "test_every_module_api_blueprint_has_operations",
    "test_api_operation_answers_with_its_permission_and_refuses_without",
    "test_module_api_keeps_its_description",
]

# What the search box is asked until a provider answers (2 characters at least).
SEARCH_QUERIES = ("01", "10", "example", "Ltda", "de", "Silva", "an", "00", "1")


# --- the cases, from the registry of an app like the session's ---------------------------------


@functools.cache
def collection_app():
    """An app like the test kit's (its ini settings), to list the cases when collecting
    (no database)."""
    from .. import create_app

    return create_app(base_config("sqlite://"))


def cases_of(kind: str, *, guarded: bool = False):
    """Mark a test to run once per contribution of the kind named ``kind`` (only those
    behind a permission if ``guarded``), with its key as ``key``."""

    def mark(function):
        function.contract_cases = ("kind", kind, guarded)
        return function

    return mark


def per(what: str):
    """Mark a test to run once per module (``"module"``), once per module that adds
    events in bulk (``"events"``), once per catalog (``"catalog"``), per API operation
    (``"operation"``) or per module with an API (``"api"``)."""

    def mark(function):
        function.contract_cases = (what,)
        return function

    return mark


def _kind_params(app, kind_name: str, guarded: bool) -> list:
    return [pytest.param(item.key, id=f"{module}:{item.key}")
            for module, item in contributions(app, kind_name)
            if not guarded or getattr(item, "permission", None)]


def pytest_generate_tests(metafunc):
    spec = getattr(metafunc.function, "contract_cases", None)
    if spec is None:
        return
    app = collection_app()
    if spec[0] == "kind":
        metafunc.parametrize("key", _kind_params(app, spec[1], spec[2]))
    elif spec[0] == "module":
        metafunc.parametrize("module", list(modules(app)))
    elif spec[0] == "events":
        metafunc.parametrize("module", event_modules(app))
    elif spec[0] == "catalog":
        metafunc.parametrize("catalog", catalog_cases(app))
    elif spec[0] == "operation":
        metafunc.parametrize(("module", "method", "path"), api_operations(app))
    elif spec[0] == "api":
        metafunc.parametrize("module", sorted({module for module, _m, _p
                                               in api_operations(app, params=False)}))


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_tables():
    """Replaces the plugin's: the contract's world outlives each test."""
    yield


@pytest.fixture(scope="module")
def contract_world(app):
    try:
        yield build_world(app)
    finally:
        empty_tables(app)


@pytest.fixture(scope="module")
def clients(app, contract_world):
    """client(name): a test client signed in as one of the world's users."""
    made = {}

    def client(name: str):
        if name not in made:
            made[name] = app.test_client()
            login_as(made[name], contract_world.users[name])
        return made[name]

    return client


def needs_account_page(world) -> None:
    if not world.empty_account:
        pytest.skip("no enabled module serves the account page (CRM)")


def get(app, kind, key: str):
    if isinstance(kind, str):
        kind = registry(app).kind(kind)
    item = registry(app).get(kind, key) if kind else None
    assert item is not None, f"no {kind} {key!r} in the session's app"
    return item


def text(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def link(app, endpoint: str, **values) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def opens(client, url: str) -> bool:
    """The page answers 200, directly or after redirects that do not lead to the login."""
    response = client.get(url, follow_redirects=True)
    return response.status_code == 200 and response.request.path != "/auth/login"


def fragment_count(html: str) -> int | None:
    match = re.search(r'data-count="(\d+)"', html)
    return int(match.group(1)) if match else None


def page(account_id: int, rest: str = "") -> str:
    return ACCOUNT_PAGE.format(account_id) + rest


def account_page_or_403(client, account_id: int, query: str = "") -> str:
    """The account page as this user sees it; "" when refused (no crm.read)."""
    response = client.get(page(account_id, query))
    assert response.status_code in (200, 403), response.status_code
    return response.get_data(as_text=True) if response.status_code == 200 else ""


def test_the_contract_covers_the_session_apps_modules(app):
    """The cases were listed from an app with the session app's modules."""
    assert list(modules(collection_app())) == list(modules(app)), (
        "the contract lists its cases from the modules of the ini file's erp_modules / "
        "erp_module_dirs: choose the session's modules there, not in erp_config")


# --- menu items --------------------------------------------------------------------------------


@cases_of("MenuItem")
def test_menu_item_is_drawn_for_a_user_with_its_permission(app, contract_world, clients, key):
    entry = get(app, MenuItem, key)
    with app.app_context():
        shown = visible(db.session.get(User, contract_world.users[ALL]), entry)
    assert shown or entry.visible is not None, "hidden from a user holding every permission"
    home = text(clients(ALL), "/")
    url = link(app, entry.endpoint)
    assert (f'data-menu="{key}"' in home) == shown
    if shown:
        assert f'href="{url}"' in home
        assert (f'data-quick-link="{key}"' in home) == entry.quick_link
        assert opens(clients(ALL), url)


@cases_of("MenuItem", guarded=True)
def test_menu_item_leaves_no_trace_without_its_permission(app, contract_world, clients, key):
    entry = get(app, MenuItem, key)
    client = clients(without(entry.permission))
    home = text(client, "/")
    url = link(app, entry.endpoint)
    assert f'data-menu="{key}"' not in home
    assert f'data-quick-link="{key}"' not in home
    assert f'href="{url}"' not in home
    assert client.get(url).status_code == 403


# --- account tabs ----------------------------------------------------------------------------


def check_tab(app, client, tab, account_id: int) -> int | None:
    """The tab renders on the account, alone and in the page; its count (if any) matches
    the fragment's. Returns the count."""
    key = tab.key
    fragment = text(client, page(account_id, f"/tabs/{key}"))
    whole = text(client, page(account_id, f"?tab={key}"))
    assert f'data-tab="{key}"' in whole
    assert f'id="panel-{key}"' in whole
    if tab.count is None:
        return None
    count = client.get(page(account_id, f"/tabs/{key}/count")).get_json()["count"]
    assert count == fragment_count(fragment), account_id
    return count


@cases_of("AccountTab")
def test_account_tab_renders_on_a_full_and_an_empty_account_and_its_count_matches(
        app, contract_world, clients, key):
    tab = get(app, "AccountTab", key)
    module = registry(app).module_of(tab.__class__, key)
    client = clients(ALL)
    full = check_tab(app, client, tab, contract_world.full_for_tab[key])
    empty = check_tab(app, client, tab, contract_world.empty_account)
    if tab.count is not None:
        assert empty == 0
        if has_demo_data(app, module):
            assert full > 0, f"{module}'s demo data puts nothing in its tab {key}"


@cases_of("AccountTab")
def test_account_tab_renders_with_its_modules_data_and_its_count_matches(
        app, contract_world, clients, key):
    tab = get(app, "AccountTab", key)
    module = registry(app).module_of(tab.__class__, key)
    account_id = contract_world.data_account.get(module)
    assert account_id, f"{module} registers no ContractData to put records in its tab {key}"
    count = check_tab(app, clients(ALL), tab, account_id)
    if tab.count is not None:
        assert count > 0, f"{module}'s ContractData puts nothing in its tab {key}"


@per("module")
def test_module_with_account_page_contributions_declares_its_contract_data(app, module):
    """A module adding tabs or timeline sources gives the contract its records."""
    kinds = [*page_kinds(app), TimelineSource]
    contributes = any(owner == module for kind in kinds
                      for owner, _item in contributions(app, kind))
    if contributes:
        assert contract_data(app, module) is not None, (
            f"{module} adds to the account page but registers no "
            f"erp.registry.ContractData({module!r}, fill=...)")


@cases_of("AccountTab", guarded=True)
def test_account_tab_leaves_no_trace_without_its_permission(app, contract_world, clients, key):
    tab = get(app, "AccountTab", key)
    client = clients(without(tab.permission))
    module = registry(app).module_of(tab.__class__, key)
    for account_id in {contract_world.full_for_tab[key],
                       contract_world.data_account.get(module, contract_world.empty_account)}:
        assert f'data-tab="{key}"' not in account_page_or_403(client, account_id)
        assert f'id="panel-{key}"' not in account_page_or_403(client, account_id,
                                                              f"?tab={key}")
        for url in (page(account_id, f"/tabs/{key}"), page(account_id, f"/tabs/{key}/count")):
            assert client.get(url).status_code in (403, 404), url


# --- account stats and Create entries -----------------------------------------------------------


def _stat_accounts(app, world, key: str) -> list[int]:
    module = registry(app).module_of(registry(app).kind("AccountStat"), key)
    return [world.fullest_account, world.empty_account,
            *([world.data_account[module]] if module in world.data_account else [])]


@cases_of("AccountStat")
def test_account_stat_shows_for_a_user_with_its_permission(app, contract_world, clients, key):
    for account_id in _stat_accounts(app, contract_world, key):
        assert f'data-stat="{key}"' in text(clients(ALL), page(account_id))


@cases_of("AccountStat", guarded=True)
def test_account_stat_leaves_no_trace_without_its_permission(app, contract_world, clients,
                                                             key):
    client = clients(without(get(app, "AccountStat", key).permission))
    for account_id in _stat_accounts(app, contract_world, key):
        assert f'data-stat="{key}"' not in account_page_or_403(client, account_id)


@cases_of("CreateAction")
def test_create_entry_shows_and_its_form_opens_for_a_user_with_its_permission(
        app, contract_world, clients, key):
    action = get(app, "CreateAction", key)
    client = clients(ALL)
    account_id = contract_world.fullest_account
    assert f'data-create="{key}"' in text(client, page(account_id))
    assert client.get(link(app, action.target, account_id=account_id)).status_code == 200


@cases_of("CreateAction", guarded=True)
def test_create_entry_leaves_no_trace_without_its_permission(app, contract_world, clients,
                                                             key):
    action = get(app, "CreateAction", key)
    client = clients(without(action.permission))
    account_id = contract_world.fullest_account
    assert f'data-create="{key}"' not in account_page_or_403(client, account_id)
    assert client.get(link(app, action.target, account_id=account_id)).status_code == 403


def test_the_account_page_shows_each_demo_user_what_their_roles_allow(app, contract_world):
    """The seeded roles, as the demo's users hold them: on an account of their scope,
    exactly the tabs, stats, Create entries and timeline kinds they may see."""
    needs_account_page(contract_world)
    world = contract_world
    keeper = next(item for item in every(app, ContractData) if item.accounts)
    kinds = {**page_kinds(app), TimelineSource: None}
    checked = 0
    for name in world.demo_users:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.username == name))
            user_id, can_read = user.id, user.has_permission("crm.read")
            mine = next((account.id for account in keeper.accounts(user)), None)
            may = {kind: {item.key: visible(user, item) for item in every(app, kind)}
                   for kind in kinds}
        client = app.test_client()
        login_as(client, user_id)
        account_id = mine or world.fullest_account
        response = client.get(page(account_id))
        if not can_read:
            assert response.status_code == 403, name
            continue
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        for kind, pattern in page_kinds(app).items():
            for key, allowed in may[kind].items():
                assert (pattern.format(key) in html) == allowed, (name, key)
        timeline = text(client, page(account_id, "/tabs/timeline"))
        for key, allowed in may[TimelineSource].items():
            for kind in get(app, TimelineSource, key).kinds:
                assert (f'value="{kind}"' in timeline) == allowed, (name, kind)
        checked += 1
    assert checked, "no demo user may read the CRM"


# --- timeline sources -----------------------------------------------------------------------------


def check_source(app, source, account_id: int) -> list:
    """The source's events on the account follow the cursor, its ties and the kind
    filter; returns them."""
    key = source.key
    kinds = sorted(source.kinds)
    with app.app_context(), app.test_request_context():
        everything = source.fetch(account_id, None, 1000, kinds)
        keys = [(e.at, e.id) for e in everything]
        assert keys == sorted(keys, reverse=True)
        assert len(set(keys)) == len(keys)
        assert source.fetch(account_id, None, 2, kinds) == everything[:2]
        for position, event in enumerate(everything):
            after = source.fetch(account_id, Cursor(event.at, key, event.id), 1000, kinds)
            assert [e.id for e in after] == [e.id for e in everything[position + 1:]]
            # Ties: at the same instant, a smaller id of the same source comes later; any
            # event of a source whose key sorts before the cursor's comes later too.
            first_then = next(e.id for e in everything if e.at == event.at)
            for cursor, first in ((Cursor(event.at, key, event.id + 1), event.id),
                                  (Cursor(event.at, key + "~", 0), first_then)):
                later = source.fetch(account_id, cursor, 1, kinds)
                assert [e.id for e in later] == [first], cursor
            before = source.fetch(account_id, Cursor(event.at, "", 0), 1000, kinds)
            assert event.id not in {e.id for e in before if e.at == event.at}
        for kind in kinds:
            only = source.fetch(account_id, None, 1000, [kind])
            assert {e.kind for e in only} <= {kind}
            assert len(only) == sum(1 for e in everything if e.kind == kind)
    return everything


@cases_of("TimelineSource")
def test_timeline_source_honours_the_cursor_ties_and_the_kind_filter(app, contract_world,
                                                                     key):
    source = get(app, TimelineSource, key)
    module = registry(app).module_of(TimelineSource, key)
    if contract_world.empty_account:
        kinds = [event.kind for event in check_source(app, source, contract_world.empty_account)]
        assert sorted(kinds) == sorted(set(kinds) & source.every_account), (
            f"{key} gives an account with nothing in it events other than its "
            f"every_account kinds, once each: {kinds}")
    everything = check_source(app, source, contract_world.full_for_source[key])
    if has_demo_data(app, module):
        assert everything, f"the demo data gives {key} no event"
    if module in contract_world.data_account:
        mine = check_source(app, source, contract_world.data_account[module])
        assert mine, f"{module}'s ContractData gives {key} no event"


@cases_of("TimelineSource")
def test_timeline_source_events_show_for_a_user_with_its_permission(app, contract_world,
                                                                    clients, key):
    source = get(app, TimelineSource, key)
    module = registry(app).module_of(TimelineSource, key)
    client = clients(ALL)
    for account_id in {contract_world.full_for_source[key],
                       contract_world.data_account.get(module, contract_world.empty_account)}:
        timeline = text(client, page(account_id, "/tabs/timeline"))
        with app.app_context(), app.test_request_context():
            events = source.fetch(account_id, None, 1000, sorted(source.kinds))
        for kind in source.kinds:
            assert f'value="{kind}"' in timeline
            some = sum(1 for e in events if e.kind == kind)
            shown = re.findall(r'data-kind="([^"]+)"', text(
                client, page(account_id, f"/tabs/timeline?kind={kind}")))
            assert set(shown) <= {kind}
            assert bool(shown) == bool(some) and len(shown) <= some


@cases_of("TimelineSource", guarded=True)
def test_timeline_source_leaves_no_trace_without_its_permission(app, contract_world, clients,
                                                                key):
    source = get(app, TimelineSource, key)
    module = registry(app).module_of(TimelineSource, key)
    client = clients(without(source.permission))
    for account_id in {contract_world.full_for_source[key],
                       contract_world.data_account.get(module, contract_world.empty_account)}:
        response = client.get(page(account_id, "/tabs/timeline"))
        if response.status_code == 403:  # no CRM at all
            return
        timeline = response.get_data(as_text=True)
        for kind in source.kinds:
            assert f'value="{kind}"' not in timeline
            assert f'data-kind="{kind}"' not in timeline
            only = text(client, page(account_id, f"/tabs/timeline?kind={kind}"))
            assert f'data-kind="{kind}"' not in only


def test_walking_the_whole_timeline_gives_every_event_once(app, contract_world):
    needs_account_page(contract_world)
    with app.app_context(), app.test_request_context():
        sources = every(app, TimelineSource)
        everything = fetch_page(sources, contract_world.fullest_account, limit=1000).events
        walked, cursor = [], None
        while True:
            page_ = fetch_page(sources, contract_world.fullest_account, cursor=cursor, limit=7)
            walked += page_.events
            if page_.next_cursor is None:
                break
            cursor = page_.next_cursor
    keys = [(e.at, e.source, e.id) for e in walked]
    assert keys == [(e.at, e.source, e.id) for e in everything]
    assert len(set(keys)) == len(keys) > 55 * min(1, len(event_modules(app)))
    if len(event_modules(app)) + len(contract_world.data_account) > 1:
        assert len({e.source for e in walked}) > 1  # the merge of several sources


@per("events")
def test_page_and_timeline_cost_the_same_for_10_or_2000_events(app, contract_world, clients,
                                                               module):
    small = new_account(app, contract_world, f"Pouca história {module}")
    large = new_account(app, contract_world, f"Muita história {module}")
    add_events(app, contract_world, module, small, 10)
    add_events(app, contract_world, module, large, 2000)
    client = clients(ALL)
    urls = ["", "/tabs/timeline"]
    for tab in every(app, "AccountTab"):
        urls += [f"?tab={tab.key}", f"/tabs/{tab.key}"]
    for url in urls:
        assert queries_for(app, client, page(small, url)) == \
            queries_for(app, client, page(large, url)), url
    # And page 40 of the large timeline costs what page 1 costs.
    with app.app_context(), app.test_request_context():
        cursor = None
        for _ in range(40):
            cursor = fetch_page(every(app, TimelineSource), large, cursor=cursor,
                                limit=25).next_cursor
    far = page(large, f"/tabs/timeline?before={cursor.encode()}")
    assert queries_for(app, client, far) == queries_for(app, client,
                                                        page(large, "/tabs/timeline"))


def test_a_disabled_module_leaves_no_trace(app, make_app, contract_world):
    needs_account_page(contract_world)
    loaded = app.extensions["erp_modules"]
    owner = registry(app).owner_of(registry(app).kind("AccountTab"))
    checked = 0
    for module in loaded:
        needed_by = [m.name for m in loaded if module.name in m.manifest.depends]
        markers = page_markers(app, module.name)
        if module.name == owner or needed_by or not markers:
            continue
        with_it, without_it = (
            make_app(ERP_MODULES=[m.name for m in loaded if m.name != skip])
            for skip in (None, module.name))
        accounts = {contract_world.fullest_account,
                    contract_world.data_account.get(module.name, contract_world.fullest_account)}
        for account_id in accounts:
            pages = []
            for variant in (with_it, without_it):
                client = variant.test_client()
                login_as(client, contract_world.users[ADMIN])
                pages.append(text(client, page(account_id)) +
                             text(client, page(account_id, "/tabs/timeline")))
            for marker in markers:
                assert marker in pages[0], (module.name, marker)
                assert marker not in pages[1], (module.name, marker)
                checked += 1
    if len(loaded) > 1:
        assert checked, "no module besides the account page's owner contributes to it"


# --- merging accounts and contacts (issue 18) ---------------------------------------------------


def _pointing_counts(columns, record_id: int) -> dict[str, int]:
    return {f"{column.table.name}.{column.name}": db.session.scalar(
        select(func.count()).select_from(column.table).where(column == record_id))
        for column in columns}


@per("module")
def test_module_records_follow_a_merge_and_come_back_on_undo(app, contract_world, module):
    """A module with a table pointing to accounts (or contacts) registers a MergeHandler
    of that kind (without one it blocks every merge); on the account of its ContractData,
    its handlers move every such row to another account and their undo (given the log
    through JSON, as the merge log keeps it) brings every one back."""
    from .. import merging

    with app.app_context(), app.test_request_context():
        reg = registry(app)
        if reg.get(Factory, MERGE_ACCOUNT) is None or reg.get(Factory, MERGE_CONTACT) is None:
            pytest.skip("no module makes accounts and contacts (CRM)")
        user = db.session.get(User, contract_world.users[ALL])
        survivor = reg.get(Factory, MERGE_ACCOUNT).make(user,
                                                       legal_name=f"Sobrevivente {module}")
        contact = reg.get(Factory, MERGE_CONTACT).make(user, name=f"Contato {module}")
        table = type(survivor).__tablename__
        for kind, record in ((MERGE_ACCOUNT, survivor), (MERGE_CONTACT, contact)):
            assert module not in merging.unsupported(kind, type(record).__tablename__), (
                f"{module} has tables pointing to {type(record).__tablename__} and no "
                f"erp.registry.MergeHandler of kind {kind!r}: it blocks every merge")
        mine = [column for owner, column in merging.pointing_to(table) if owner == module]
        merged_id = contract_world.data_account.get(module)
        handlers = [h for h in merging.handlers(MERGE_ACCOUNT)
                    if reg.module_of(MergeHandler, h.key) == module]
        if not mine or merged_id is None or not handlers:
            db.session.rollback()
            return
        merged = db.session.get(type(survivor), merged_id)
        before = _pointing_counts(mine, merged_id)
        assert any(before.values()), f"{module}'s ContractData puts nothing on its account"
        logs = {h.key: json.loads(json.dumps(h.move(survivor, merged))) for h in handlers}
        db.session.flush()
        assert not any(_pointing_counts(mine, merged_id).values()), (
            f"{module}'s merge handlers leave rows on the merged account")
        for handler in reversed(handlers):
            handler.undo(survivor, merged, logs[handler.key])
        db.session.flush()
        assert _pointing_counts(mine, merged_id) == before
        db.session.rollback()


# --- search providers ---------------------------------------------------------------------------


def provider_answer(app, world, provider) -> tuple[str, list[str]]:
    """A query the provider answers for a user with every permission, and the result URLs."""
    with app.app_context(), app.test_request_context():
        user = db.session.get(User, world.users[ALL])
        for query in SEARCH_QUERIES:
            results = provider.search(query, user, 10)
            if results:
                return query, [result.url for result in results]
    pytest.fail(f"{provider.key} finds nothing in the demo data for any of {SEARCH_QUERIES}: "
                "add a query it answers to SEARCH_QUERIES")


@cases_of("SearchProvider")
def test_search_provider_answers_a_user_with_its_permission(app, contract_world, clients, key):
    query, urls = provider_answer(app, contract_world, get(app, SearchProvider, key))
    found = text(clients(ALL), f"/search?q={query}")
    assert f'id="results-{key}"' in found
    for url in urls:
        assert f'href="{url}"' in found


@cases_of("SearchProvider", guarded=True)
def test_search_provider_leaves_no_trace_without_its_permission(app, contract_world, clients,
                                                                key):
    provider = get(app, SearchProvider, key)
    query, urls = provider_answer(app, contract_world, provider)
    found = text(clients(without(provider.permission)), f"/search?q={query}")
    assert f'id="results-{key}"' not in found
    for url in urls:
        assert f'href="{url}"' not in found


# --- dashboard widgets and reports --------------------------------------------------------------


def widget_tag(home: str, key: str) -> str | None:
    match = re.search(rf'<section[^>]*data-widget="{re.escape(key)}"[^>]*>', home)
    return match.group(0) if match else None


@cases_of("DashboardWidget")
def test_dashboard_widget_is_drawn_on_home_for_a_user_with_its_permission(
        app, contract_world, clients, key):
    tag = widget_tag(text(clients(ALL), "/"), key)
    assert tag is not None
    assert "data-widget-failed" not in tag


@cases_of("DashboardWidget", guarded=True)
def test_dashboard_widget_leaves_no_trace_without_its_permission(app, contract_world, clients,
                                                                 key):
    client = clients(without(get(app, DashboardWidget, key).permission))
    assert f'data-widget="{key}"' not in text(client, "/")


@cases_of("Report")
def test_report_is_listed_and_opens_for_a_user_with_its_permission(app, contract_world,
                                                                   clients, key):
    report = get(app, Report, key)
    client = clients(ALL)
    url = link(app, report.endpoint)
    listing = text(client, "/reports")
    assert f'data-report="{key}"' in listing and f'href="{url}"' in listing
    assert client.get(url).status_code == 200


@cases_of("Report", guarded=True)
def test_report_leaves_no_trace_without_its_permission(app, contract_world, clients, key):
    report = get(app, Report, key)
    client = clients(without(report.permission))
    url = link(app, report.endpoint)
    listing = client.get("/reports")
    assert listing.status_code in (200, 403)
    assert f'data-report="{key}"' not in listing.get_data(as_text=True)
    assert f'href="{url}"' not in listing.get_data(as_text=True)
    assert client.get(url).status_code in (403, 404)


# --- admin views --------------------------------------------------------------------------------


@cases_of("AdminView")
def test_admin_view_opens_for_an_admin(app, contract_world, clients, key):
    client = clients(ADMIN)
    url = link(app, f"{key}.index_view")
    assert client.get(url).status_code == 200
    assert f'href="{url}"' in text(client, "/admin/")


@cases_of("AdminView")
def test_admin_view_is_refused_to_a_user_with_every_permission_but_no_admin(
        app, contract_world, clients, key):
    client = clients(ALL)
    url = link(app, f"{key}.index_view")
    assert client.get(url).status_code == 403
    assert f'href="{url}"' not in text(client, "/")
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.location


# --- migrations and translations (no world needed) ---------------------------------------------


def test_migrated_schema_equals_the_models(make_app, empty_database_url):
    check_migrated_schema(make_app(SQLALCHEMY_DATABASE_URI=empty_database_url))


def test_migrations_go_down_to_base_and_up_again(make_app, empty_database_url):
    check_downgrade_and_upgrade(make_app(SQLALCHEMY_DATABASE_URI=empty_database_url))


@per("catalog")
def test_every_string_of_the_module_is_translated_to_pt_br(catalog):
    check_catalog(catalog)


# --- API operations (last: allowed calls may write) ---------------------------------------------


def test_every_module_api_blueprint_has_operations(app):
    enabled = set(modules(app))
    operations = {module for module, _method, _path in api_operations(app, params=False)}
    assert operations == {module for module, _blp in contributions(app, ApiBlueprint)
                          if module in enabled}


@per("operation")
def test_api_operation_answers_with_its_permission_and_refuses_without(
        app, contract_world, module, method, path):
    check_api_operation(app, contract_world, module, method, path)


@per("api")
def test_module_api_keeps_its_description(app, contract_world, module):
    """Schemathesis's generated requests to the module's operations (those of its
    ApiBlueprints in the OpenAPI document), as the all-permission user: no 5xx, every
    answer as the document says."""
    fuzz_operations(app, contract_world.tokens[ALL], module)

