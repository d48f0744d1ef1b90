"""The module contract, for every enabled module's contributions, read from the registry.

Each contribution is a case of its own, so a new module (or a new contribution) is
tested without a line here: menu items, account tabs, account stats, Create entries,
timeline sources, search providers, dashboard widgets, reports, admin views and the
operations of every API blueprint in the OpenAPI document. For each:

* a user holding every permission (``contract_all``) gets it: the entry drawn, the tab
  rendered on a full and on an empty account, the source's cursor paging right, the
  provider answering, the report and the admin view opening (the admin's), the API
  operation answering something else than 403;
* a user holding every permission but the contribution's own
  (``contract_without:<permission>``) gets neither it nor a trace of it: no link, no tab
  header, tab and report URLs refused, no stat, no event, no search result, no widget, the
  API operation refused with 403. A non-admin gets none of the admin.

The world is every module's demo data (tests/erp/contract.py), built once for the file;
the API cases run last, as they may write.
"""

from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import select

from erp.auth.models import User
from erp.db import db
from erp.registry import (
    AdminView,
    ApiBlueprint,
    DashboardWidget,
    MenuItem,
    Report,
    SearchProvider,
    TimelineSource,
    visible,
)
from erp.timeline import Cursor, fetch_page
from modules.crm.kinds import AccountStat, AccountTab, CreateAction
from modules.crm.models import Account
from modules.crm.services.scope import account_scope
from tests.access.matrix import collection_app
from tests.access.world import empty_tables
from tests.conftest import login_as
from tests.erp.contract import (
    ADMIN,
    ALL,
    PAGE_KINDS,
    add_actions,
    build_world,
    contributions,
    every,
    has_demo_data,
    module_permissions,
    new_account,
    page_markers,
    registry,
    without,
)
from tests.reporting import queries_for

COLLECTED = collection_app()  # the suite's modules, to make the cases when collecting

# What the search box is asked until a provider answers (2 characters at least).
SEARCH_QUERIES = ("01", "10", "example", "Ltda", "de", "Silva", "an", "00", "1")


def cases(kind, *, guarded: bool = False) -> list:
    """One case per contribution of ``kind`` (only those behind a permission if
    ``guarded``), named module:key."""
    return [pytest.param(item.key, id=f"{module}:{item.key}")
            for module, item in contributions(COLLECTED, kind)
            if not guarded or getattr(item, "permission", None)]


@pytest.fixture(autouse=True)
def _clean_tables():
    """Replaces tests/conftest.py's: the file's world outlives each test."""
    yield


@pytest.fixture(scope="module")
def world(app):
    try:
        yield build_world(app)
    finally:
        empty_tables(app)


@pytest.fixture(scope="module")
def clients(app, world):
    """client(name): a test client signed in as one of the world's users."""
    made = {}

    def client(name: str):
        if name not in made:
            made[name] = app.test_client()
            login_as(made[name], world.users[name])
        return made[name]

    return client


def get(app, kind, key: str):
    item = registry(app).get(kind, key)
    assert item is not None, f"no {kind.__name__} {key!r} in the session's app"
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


def account_page_or_403(client, account_id: int, query: str = "") -> str:
    """The account page as this user sees it; "" when refused (no crm.read)."""
    response = client.get(f"/crm/accounts/{account_id}{query}")
    assert response.status_code in (200, 403), response.status_code
    return response.get_data(as_text=True) if response.status_code == 200 else ""


# --- menu items --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", cases(MenuItem))
def test_menu_item_is_drawn_for_a_user_with_its_permission(app, world, clients, key):
    entry = get(app, MenuItem, key)
    with app.app_context():
        shown = visible(db.session.get(User, world.users[ALL]), entry)
    assert shown or entry.visible is not None, "hidden from a user holding every permission"
    home = text(clients(ALL), "/")
    url = link(app, entry.endpoint)
    assert (f'data-menu="{key}"' in home) == shown
    if shown:
        assert f'href="{url}"' in home
        assert (f'data-quick-link="{key}"' in home) == entry.quick_link
        assert opens(clients(ALL), url)


@pytest.mark.parametrize("key", cases(MenuItem, guarded=True))
def test_menu_item_leaves_no_trace_without_its_permission(app, world, clients, key):
    entry = get(app, MenuItem, key)
    client = clients(without(entry.permission))
    home = text(client, "/")
    url = link(app, entry.endpoint)
    assert f'data-menu="{key}"' not in home
    assert f'data-quick-link="{key}"' not in home
    assert f'href="{url}"' not in home
    assert client.get(url).status_code == 403


# --- account tabs ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", cases(AccountTab))
def test_account_tab_renders_on_a_full_and_an_empty_account_and_its_count_matches(
        app, world, clients, key):
    tab = get(app, AccountTab, key)
    module = registry(app).module_of(AccountTab, key)
    client = clients(ALL)
    full, empty = world.full_for_tab[key], world.empty_account
    for account_id in (full, empty):
        fragment = text(client, f"/crm/accounts/{account_id}/tabs/{key}")
        page = text(client, f"/crm/accounts/{account_id}?tab={key}")
        assert f'data-tab="{key}"' in page
        assert f'id="panel-{key}"' in page
        if tab.count is None:
            continue
        count = client.get(f"/crm/accounts/{account_id}/tabs/{key}/count").get_json()["count"]
        assert count == fragment_count(fragment), account_id
        if account_id == empty:
            assert count == 0
        elif has_demo_data(app, module):
            assert count > 0, f"{module}'s demo data puts nothing in its tab {key}"


@pytest.mark.parametrize("key", cases(AccountTab, guarded=True))
def test_account_tab_leaves_no_trace_without_its_permission(app, world, clients, key):
    tab = get(app, AccountTab, key)
    client = clients(without(tab.permission))
    account_id = world.full_for_tab[key]
    assert f'data-tab="{key}"' not in account_page_or_403(client, account_id)
    assert f'id="panel-{key}"' not in account_page_or_403(client, account_id, f"?tab={key}")
    for url in (f"/crm/accounts/{account_id}/tabs/{key}",
                f"/crm/accounts/{account_id}/tabs/{key}/count"):
        assert client.get(url).status_code in (403, 404), url


# --- account stats and Create entries -----------------------------------------------------------


@pytest.mark.parametrize("key", cases(AccountStat))
def test_account_stat_shows_for_a_user_with_its_permission(app, world, clients, key):
    for account_id in (world.fullest_account, world.empty_account):
        assert f'data-stat="{key}"' in text(clients(ALL), f"/crm/accounts/{account_id}")


@pytest.mark.parametrize("key", cases(AccountStat, guarded=True))
def test_account_stat_leaves_no_trace_without_its_permission(app, world, clients, key):
    client = clients(without(get(app, AccountStat, key).permission))
    for account_id in (world.fullest_account, world.empty_account):
        assert f'data-stat="{key}"' not in account_page_or_403(client, account_id)


@pytest.mark.parametrize("key", cases(CreateAction))
def test_create_entry_shows_and_its_form_opens_for_a_user_with_its_permission(
        app, world, clients, key):
    action = get(app, CreateAction, key)
    client = clients(ALL)
    account_id = world.fullest_account
    assert f'data-create="{key}"' in text(client, f"/crm/accounts/{account_id}")
    assert client.get(link(app, action.target, account_id=account_id)).status_code == 200


@pytest.mark.parametrize("key", cases(CreateAction, guarded=True))
def test_create_entry_leaves_no_trace_without_its_permission(app, world, clients, key):
    action = get(app, CreateAction, key)
    client = clients(without(action.permission))
    account_id = world.fullest_account
    assert f'data-create="{key}"' not in account_page_or_403(client, account_id)
    assert client.get(link(app, action.target, account_id=account_id)).status_code == 403


def test_the_account_page_shows_each_demo_user_what_their_roles_allow(app, world):
    """The seeded roles, as the demo's users hold them: on an account of their scope,
    exactly the tabs, stats, Create entries and timeline kinds they may see."""
    checked = 0
    for name in world.demo_users:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.username == name))
            user_id, can_read = user.id, user.has_permission("crm.read")
            mine = db.session.scalar(select(Account.id).where(account_scope(user))
                                     .order_by(Account.id))
            may = {kind: {item.key: visible(user, item) for item in every(app, kind)}
                   for kind in (*PAGE_KINDS, TimelineSource)}
        client = app.test_client()
        login_as(client, user_id)
        account_id = mine or world.fullest_account
        response = client.get(f"/crm/accounts/{account_id}")
        if not can_read:
            assert response.status_code == 403, name
            continue
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        for kind, pattern in PAGE_KINDS.items():
            for key, allowed in may[kind].items():
                assert (pattern.format(key) in html) == allowed, (name, key)
        timeline = text(client, f"/crm/accounts/{account_id}/tabs/timeline")
        for key, allowed in may[TimelineSource].items():
            for kind in get(app, TimelineSource, key).kinds:
                assert (f'value="{kind}"' in timeline) == allowed, (name, kind)
        checked += 1
    assert checked, "no demo user may read the CRM"


# --- timeline sources -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", cases(TimelineSource))
def test_timeline_source_honours_the_cursor_and_the_kind_filter(app, world, key):
    source = get(app, TimelineSource, key)
    account_id = world.full_for_source[key]
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
    if has_demo_data(app, registry(app).module_of(TimelineSource, key)):
        assert everything, f"the demo data gives {key} no event"


@pytest.mark.parametrize("key", cases(TimelineSource))
def test_timeline_source_events_show_for_a_user_with_its_permission(app, world, clients, key):
    source = get(app, TimelineSource, key)
    account_id = world.full_for_source[key]
    client = clients(ALL)
    timeline = text(client, f"/crm/accounts/{account_id}/tabs/timeline")
    with app.app_context(), app.test_request_context():
        events = source.fetch(account_id, None, 1000, sorted(source.kinds))
    for kind in source.kinds:
        assert f'value="{kind}"' in timeline
        some = sum(1 for e in events if e.kind == kind)
        shown = re.findall(r'data-kind="([^"]+)"', text(
            client, f"/crm/accounts/{account_id}/tabs/timeline?kind={kind}"))
        assert set(shown) <= {kind}
        assert bool(shown) == bool(some) and len(shown) <= some


@pytest.mark.parametrize("key", cases(TimelineSource, guarded=True))
def test_timeline_source_leaves_no_trace_without_its_permission(app, world, clients, key):
    source = get(app, TimelineSource, key)
    client = clients(without(source.permission))
    account_id = world.full_for_source[key]
    response = client.get(f"/crm/accounts/{account_id}/tabs/timeline")
    if response.status_code == 403:  # no CRM at all
        return
    timeline = response.get_data(as_text=True)
    for kind in source.kinds:
        assert f'value="{kind}"' not in timeline
        assert f'data-kind="{kind}"' not in timeline
        only = text(client, f"/crm/accounts/{account_id}/tabs/timeline?kind={kind}")
        assert f'data-kind="{kind}"' not in only


def test_walking_the_whole_timeline_gives_every_event_once(app, world):
    with app.app_context(), app.test_request_context():
        sources = every(app, TimelineSource)
        everything = fetch_page(sources, world.fullest_account, limit=1000).events
        walked, cursor = [], None
        while True:
            page = fetch_page(sources, world.fullest_account, cursor=cursor, limit=7)
            walked += page.events
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    keys = [(e.at, e.source, e.id) for e in walked]
    assert keys == [(e.at, e.source, e.id) for e in everything]
    assert len(set(keys)) == len(keys) > 55
    assert len({e.source for e in walked}) > 1  # the merge of several sources


def test_page_and_timeline_cost_the_same_for_10_or_2000_events(app, world, clients):
    small = new_account(app, world, "Pouca história")
    large = new_account(app, world, "Muita história")
    with app.app_context():
        add_actions(small, world.users[ALL], 10)
        add_actions(large, world.users[ALL], 2000)
    client = clients(ALL)
    for url in ("/crm/accounts/{}", "/crm/accounts/{}/tabs/timeline",
                "/crm/accounts/{}?tab=opportunities", "/crm/accounts/{}/tabs/contacts"):
        assert queries_for(app, client, url.format(small)) == \
            queries_for(app, client, url.format(large)), url
    # And page 40 of the large timeline costs what page 1 costs.
    with app.app_context(), app.test_request_context():
        cursor = None
        for _ in range(40):
            cursor = fetch_page(every(app, TimelineSource), large, cursor=cursor,
                                limit=25).next_cursor
    far = f"/crm/accounts/{large}/tabs/timeline?before={cursor.encode()}"
    assert queries_for(app, client, far) == queries_for(
        app, client, f"/crm/accounts/{large}/tabs/timeline")


def test_a_disabled_module_leaves_no_trace(app, make_app, world):
    modules = app.extensions["erp_modules"]
    checked = 0
    for module in modules:
        needed_by = [m.name for m in modules if module.name in m.manifest.depends]
        markers = page_markers(app, module.name)
        if module.name == "crm" or needed_by or not markers:
            continue
        with_it, without_it = (
            make_app(ERP_MODULES=[m.name for m in modules if m.name != skip])
            for skip in (None, module.name))
        pages = []
        for variant in (with_it, without_it):
            client = variant.test_client()
            login_as(client, world.users[ADMIN])
            account = f"/crm/accounts/{world.fullest_account}"
            pages.append(text(client, account) + text(client, f"{account}/tabs/timeline"))
        for marker in markers:
            assert marker in pages[0], (module.name, marker)
            assert marker not in pages[1], (module.name, marker)
            checked += 1
    assert checked, "no module besides CRM contributes to the account page"


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


@pytest.mark.parametrize("key", cases(SearchProvider))
def test_search_provider_answers_a_user_with_its_permission(app, world, clients, key):
    query, urls = provider_answer(app, world, get(app, SearchProvider, key))
    page = text(clients(ALL), f"/search?q={query}")
    assert f'id="results-{key}"' in page
    for url in urls:
        assert f'href="{url}"' in page


@pytest.mark.parametrize("key", cases(SearchProvider, guarded=True))
def test_search_provider_leaves_no_trace_without_its_permission(app, world, clients, key):
    provider = get(app, SearchProvider, key)
    query, urls = provider_answer(app, world, provider)
    page = text(clients(without(provider.permission)), f"/search?q={query}")
    assert f'id="results-{key}"' not in page
    for url in urls:
        assert f'href="{url}"' not in page


# --- dashboard widgets and reports --------------------------------------------------------------


def widget_tag(home: str, key: str) -> str | None:
    match = re.search(rf'<section[^>]*data-widget="{re.escape(key)}"[^>]*>', home)
    return match.group(0) if match else None


@pytest.mark.parametrize("key", cases(DashboardWidget))
def test_dashboard_widget_is_drawn_on_home_for_a_user_with_its_permission(
        app, world, clients, key):
    tag = widget_tag(text(clients(ALL), "/"), key)
    assert tag is not None
    assert "data-widget-failed" not in tag


@pytest.mark.parametrize("key", cases(DashboardWidget, guarded=True))
def test_dashboard_widget_leaves_no_trace_without_its_permission(app, world, clients, key):
    client = clients(without(get(app, DashboardWidget, key).permission))
    assert f'data-widget="{key}"' not in text(client, "/")


@pytest.mark.parametrize("key", cases(Report))
def test_report_is_listed_and_opens_for_a_user_with_its_permission(app, world, clients, key):
    report = get(app, Report, key)
    client = clients(ALL)
    url = link(app, report.endpoint)
    listing = text(client, "/reports")
    assert f'data-report="{key}"' in listing and f'href="{url}"' in listing
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("key", cases(Report, guarded=True))
def test_report_leaves_no_trace_without_its_permission(app, world, clients, key):
    report = get(app, Report, key)
    client = clients(without(report.permission))
    url = link(app, report.endpoint)
    listing = client.get("/reports")
    assert listing.status_code in (200, 403)
    assert f'data-report="{key}"' not in listing.get_data(as_text=True)
    assert f'href="{url}"' not in listing.get_data(as_text=True)
    assert client.get(url).status_code in (403, 404)


# --- admin views --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", cases(AdminView))
def test_admin_view_opens_for_an_admin(app, world, clients, key):
    client = clients(ADMIN)
    url = link(app, f"{key}.index_view")
    assert client.get(url).status_code == 200
    assert f'href="{url}"' in text(client, "/admin/")


@pytest.mark.parametrize("key", cases(AdminView))
def test_admin_view_is_refused_to_a_user_with_every_permission_but_no_admin(
        app, world, clients, key):
    client = clients(ALL)
    url = link(app, f"{key}.index_view")
    assert client.get(url).status_code == 403
    assert f'href="{url}"' not in text(client, "/")
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.location


# --- API operations (last: allowed calls may write) ---------------------------------------------

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def api_operations() -> list:
    """(module, method, path) of every operation of the modules' API blueprints."""
    enabled = {module.name for module in COLLECTED.extensions["erp_modules"]}
    owners = {item.key: module for module, item in contributions(COLLECTED, ApiBlueprint)
              if module in enabled}  # the host's own API is not a module's contribution
    document = COLLECTED.test_client().get("/api/v1/openapi.json").get_json()
    adapter = COLLECTED.url_map.bind("localhost")
    found = []
    for path, operations in document["paths"].items():
        for method in operations:
            if method == "parameters":
                continue
            sample = re.sub(r"\{[^}]+\}", "1", path)
            endpoint, _args = adapter.match(sample, method=method.upper())
            module = owners.get(endpoint.partition(".")[0])
            if module is not None:
                found.append(pytest.param(module, method.upper(), path,
                                          id=f"{module}:{method.upper()} {path}"))
    return found


def api_call(client, world, name: str, method: str, url: str):
    headers = {"Authorization": f"Bearer {world.tokens[name]}"}
    return client.open(url, method=method, headers=headers,
                       **({"json": {}} if method in WRITES and method != "DELETE" else {}))


def concrete(client, world, path: str) -> str | None:
    """``path`` with each {name} replaced by a record's id from the list before it (the
    item's ``name`` field, else its ``id``), chosen so that the lists further down are not
    empty; None when no record can be found that way."""

    def ids(url: str, name: str) -> list[str]:
        listing = api_call(client, world, ALL, "GET", url)
        body = listing.get_json() if listing.status_code == 200 else None
        items = body.get("items", []) if isinstance(body, dict) else body or []
        return [str(item.get(name, item.get("id"))) for item in items[:10]
                if isinstance(item, dict) and item.get(name, item.get("id")) is not None]

    def resolve(built: str, parts: list[str]) -> str | None:
        if not parts:
            return built
        part, rest = parts[0], parts[1:]
        if not part.startswith("{"):
            return resolve(f"{built}/{part}", rest)
        for record_id in ids(built, part.strip("{}")):
            found = resolve(f"{built}/{record_id}", rest)
            if found is not None:
                return found
        return None

    return resolve("", path.strip("/").split("/"))


def test_every_module_api_blueprint_has_operations():
    enabled = {module.name for module in COLLECTED.extensions["erp_modules"]}
    operations = {case.values[0] for case in api_operations()}
    assert operations == {module for module, _blp in contributions(COLLECTED, ApiBlueprint)
                          if module in enabled}


@pytest.mark.parametrize(("module", "method", "path"), api_operations())
def test_api_operation_answers_with_its_permission_and_refuses_without(
        app, world, module, method, path):
    client = app.test_client()
    url = concrete(client, world, path)
    assert url is not None, f"no record to call {path} on: the demo data should hold one"
    # Every permission in turn withheld: those the operation needs are the 403s.
    needs = {permission for permission in world.permissions
             if api_call(client, world, without(permission), method, url).status_code == 403}
    assert needs, f"{method} {url} answers without any permission"
    assert needs <= module_permissions(app, module), \
        f"{method} {url} needs another module's permission: {needs}"
    answer = api_call(client, world, ALL, method, url)
    assert answer.status_code not in (401, 403), answer.get_json()
    document = client.get("/api/v1/openapi.json").get_json()
    assert "403" in document["paths"][path][method.lower()]["responses"]
