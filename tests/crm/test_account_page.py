"""The account page: built from the registry; its tabs, counts, stats, Create menu and
timeline honour their contracts, for every enabled module's contributions."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from erp.auth.models import User
from erp.db import db
from erp.timeline import Cursor, fetch_page
from modules.crm.models import Account, Action
from tests.conftest import login_as

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def registry(app):
    return app.extensions["erp"]


def all_tabs(app):
    return registry(app).items("account tab", None, check_permission=False)


def all_sources(app):
    return registry(app).items("timeline source", None, check_permission=False)


@pytest.fixture
def full_account(app, users, make_account, make_contact, make_opportunity, pipeline):
    """An account with something in every CRM tab and source."""
    account_id = make_account(legal_name="Cheia Ltda.")
    make_contact(name="Pessoa Um", account_id=account_id, role="Compras")
    opportunity_id = make_opportunity(account_id, title="Negócio",
                                      items=[{"description": "x", "unit_price": "10"}])
    add_actions(app, users, account_id, 5, opportunity_id=opportunity_id)
    return account_id


def add_actions(app, users, account_id, count, *, at=None, kind="call", opportunity_id=None):
    """Bulk-insert ``count`` done actions (a timeline's bulk), one second apart."""
    with app.app_context():
        db.session.execute(insert(Action), [
            {"account_id": account_id, "opportunity_id": opportunity_id, "kind": kind,
             "at": at or T0 - timedelta(seconds=i), "user_id": users["rep_a"],
             "description": f"#{i}", "done": True, "created_at": T0, "updated_at": T0}
            for i in range(count)])
        db.session.commit()


def fragment_count(html: str) -> int | None:
    match = re.search(r'data-count="(\d+)"', html)
    return int(match.group(1)) if match else None


# --- the contract, for every enabled module's contributions ----------------------------


def test_every_tab_renders_for_a_full_and_an_empty_account_and_its_count_matches(
        app, client, users, full_account, make_account):
    empty_account = make_account(legal_name="Vazia Ltda.")
    login_as(client, users["admin"])
    for tab in all_tabs(app):
        for account_id in (full_account, empty_account):
            response = client.get(f"/crm/accounts/{account_id}/tabs/{tab.key}")
            assert response.status_code == 200, (tab.key, account_id)
            html = response.get_data(as_text=True)
            full_page = client.get(f"/crm/accounts/{account_id}?tab={tab.key}")
            assert full_page.status_code == 200
            assert f'id="panel-{tab.key}"' in full_page.get_data(as_text=True)
            if tab.count is not None:
                count = client.get(f"/crm/accounts/{account_id}/tabs/{tab.key}/count").get_json()
                assert count["count"] == fragment_count(html), (tab.key, account_id)
                if account_id == empty_account:
                    assert count["count"] == 0, tab.key


@pytest.mark.parametrize("who", ["rep_a", "finance", "service", "nobody", "admin"])
def test_tabs_stats_create_entries_and_kinds_follow_permissions(app, client, users,
                                                               full_account, who):
    """Repeated as users with and without each contribution's permission."""
    with app.app_context():
        user = db.session.get(User, users[who])
        can = {kind: [item for item in registry(app).items(kind, None, check_permission=False)
                      if item.permission is None or user.has_permission(item.permission)]
               for kind in ("account tab", "account stat", "create action", "timeline source")}
        cannot = {kind: [item for item in registry(app).items(kind, None, check_permission=False)
                         if item not in can[kind]] for kind in can}
    login_as(client, users[who])
    response = client.get(f"/crm/accounts/{full_account}")
    if not user_can_read_crm(app, users[who]):
        assert response.status_code == 403
        return
    html = response.get_data(as_text=True)
    for tab in can["account tab"]:
        assert f'data-tab="{tab.key}"' in html
    for tab in cannot["account tab"]:
        assert f'data-tab="{tab.key}"' not in html
        assert client.get(f"/crm/accounts/{full_account}/tabs/{tab.key}").status_code == 404
    for stat in can["account stat"]:
        assert f'data-stat="{stat.key}"' in html
    for stat in cannot["account stat"]:
        assert f'data-stat="{stat.key}"' not in html
    for action in can["create action"]:
        assert f'data-create="{action.key}"' in html
    for action in cannot["create action"]:
        assert f'data-create="{action.key}"' not in html
    timeline = client.get(f"/crm/accounts/{full_account}/tabs/timeline").get_data(as_text=True)
    for source in cannot["timeline source"]:
        for kind in source.kinds:
            assert f'value="{kind}"' not in timeline


def user_can_read_crm(app, user_id) -> bool:
    with app.app_context():
        return db.session.get(User, user_id).has_permission("crm.read")


def test_every_timeline_source_honours_the_cursor_and_the_kind_filter(app, users, full_account):
    add_actions(app, users, full_account, 3, at=T0 + timedelta(days=1))  # ties at one instant
    add_actions(app, users, full_account, 2, kind="note")
    with app.app_context(), app.test_request_context():
        for source in all_sources(app):
            kinds = sorted(source.kinds)
            everything = source.fetch(full_account, None, 1000, kinds)
            keys = [(e.at, e.id) for e in everything]
            assert keys == sorted(keys, reverse=True), source.key
            for position, middle in enumerate(everything):
                cursor = Cursor(middle.at, source.key, middle.id)
                after = source.fetch(full_account, cursor, 1000, kinds)
                assert [e.id for e in after] == [e.id for e in everything[position + 1:]], \
                    source.key
            for kind in kinds:
                only = source.fetch(full_account, None, 1000, [kind])
                assert {e.kind for e in only} <= {kind}, source.key
                assert len(only) == sum(1 for e in everything if e.kind == kind), source.key


def test_walking_the_whole_timeline_gives_every_event_once(app, users, full_account):
    add_actions(app, users, full_account, 30, at=T0)  # thirty at the very same instant
    add_actions(app, users, full_account, 20)
    with app.app_context(), app.test_request_context():
        sources = all_sources(app)
        everything = fetch_page(sources, full_account, limit=1000).events
        walked, cursor = [], None
        while True:
            page = fetch_page(sources, full_account, cursor=cursor, limit=7)
            walked += page.events
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    keys = [(e.at, e.source, e.id) for e in walked]
    assert keys == [(e.at, e.source, e.id) for e in everything]
    assert len(set(keys)) == len(keys) > 55


# --- cost --------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


def queries_for(app, client, url: str) -> int:
    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
        assert response.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter.count


def test_page_and_timeline_cost_the_same_for_10_or_2000_events(app, client, users,
                                                               make_account):
    small = make_account(legal_name="Pouca história")
    large = make_account(legal_name="Muita história")
    add_actions(app, users, small, 10)
    add_actions(app, users, large, 2000)
    login_as(client, users["rep_a"])
    for url in ("/crm/accounts/{}", "/crm/accounts/{}/tabs/timeline",
                "/crm/accounts/{}?tab=opportunities", "/crm/accounts/{}/tabs/contacts"):
        assert queries_for(app, client, url.format(small)) == \
            queries_for(app, client, url.format(large)), url
    # And page 40 of the large timeline costs what page 1 costs.
    with app.app_context(), app.test_request_context():
        cursor = None
        for _ in range(40):
            cursor = fetch_page(registry(app).items("timeline source", None,
                                                    check_permission=False),
                                large, cursor=cursor, limit=25).next_cursor
    far = f"/crm/accounts/{large}/tabs/timeline?before={cursor.encode()}"
    assert queries_for(app, client, far) == queries_for(
        app, client, f"/crm/accounts/{large}/tabs/timeline")


# --- the page -------------------------------------------------------------------------------


def test_timeline_pages_through_load_older_and_filters_by_kind(app, client, users,
                                                               full_account):
    add_actions(app, users, full_account, 40)
    add_actions(app, users, full_account, 3, kind="visit")
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{full_account}").get_data(as_text=True)
    total = 5 + 40 + 3 + 1  # the fixture's actions, these, and "opportunity created"
    assert html.count('class="timeline-event') == 25
    fragment_url = re.search(r'data-fragment-url="([^"]*append=1[^"]*)"', html).group(1)
    more = client.get(fragment_url.replace("&amp;", "&")).get_data(as_text=True)
    assert more.count('class="timeline-event') == total - 25
    assert 'id="timeline-older"' not in more  # that was the last page
    visits = client.get(f"/crm/accounts/{full_account}/tabs/timeline?kind=crm.visit")
    kinds = re.findall(r'data-kind="([^"]+)"', visits.get_data(as_text=True))
    assert kinds == ["crm.visit"] * 3


def test_bad_cursor_shows_the_first_page(client, users, full_account):
    login_as(client, users["rep_a"])
    response = client.get(f"/crm/accounts/{full_account}/tabs/timeline?before=garbage")
    assert response.status_code == 200 and 'class="timeline-event' in response.get_data(
        as_text=True)


def test_a_failing_source_becomes_a_notice(app, client, users, full_account):
    source = registry(app).get("timeline source", "crm.pipeline")

    def broken(*args):
        raise RuntimeError("boom")

    entries = registry(app).kinds["timeline source"]
    original = entries["crm.pipeline"]
    entries["crm.pipeline"] = dataclasses.replace(original, item=dataclasses.replace(
        source, fetch=broken))
    try:
        login_as(client, users["rep_a"])
        html = client.get(f"/crm/accounts/{full_account}").get_data(as_text=True)
    finally:
        entries["crm.pipeline"] = original
    assert "Some events could not be loaded" in html
    assert 'class="timeline-event' in html  # the actions still show


def test_create_menu_entries_open_their_form_for_the_account_and_come_back(
        client, users, full_account):
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{full_account}").get_data(as_text=True)
    links = dict(re.findall(r'href="([^"]+)" data-create="([^"]+)"', html))
    by_key = {key: url.replace("&amp;", "&") for url, key in links.items()}
    assert f"account_id={full_account}" in by_key["crm.new_action"]
    assert f"next=/crm/accounts/{full_account}" in by_key["crm.new_action"].replace("%2F", "/")
    for url in by_key.values():
        assert client.get(url).status_code == 200, url


def test_a_count_that_fails_shows_a_question_mark(app, client, users, full_account):
    entries = registry(app).kinds["account tab"]
    original = entries["contacts"]

    def broken(account):
        raise RuntimeError("slow disk")

    entries["contacts"] = dataclasses.replace(original, item=dataclasses.replace(
        original.item, count=broken))
    try:
        login_as(client, users["rep_a"])
        body = client.get(f"/crm/accounts/{full_account}/tabs/contacts/count").get_json()
    finally:
        entries["contacts"] = original
    assert body == {"count": None}  # the page's script shows "?"


def test_account_page_shows_the_stats(app, client, users, full_account):
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{full_account}").get_data(as_text=True)
    stat = html[html.index('data-stat="crm.open_value"'):]
    assert "R$10.00" in stat[:400]
    with app.app_context():
        assert db.session.get(Account, full_account) is not None


PAGE_KINDS = {"account tab": 'data-tab="{}"', "account stat": 'data-stat="{}"',
              "create action": 'data-create="{}"'}


def page_markers(app, module: str) -> list[str]:
    """What a module's contributions look like on the account page."""
    reg = registry(app)
    markers = [pattern.format(item.key) for kind, pattern in PAGE_KINDS.items()
               for item in reg.items(kind, None, check_permission=False)
               if reg.module_of(kind, item.key) == module]
    markers += [f'value="{kind}"' for source in all_sources(app)
                if reg.module_of("timeline source", source.key) == module
                for kind in source.kinds]
    return markers


def test_a_disabled_module_leaves_no_trace(app, make_app, users, full_account):
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
            login_as(client, users["admin"])
            pages.append(client.get(f"/crm/accounts/{full_account}").get_data(as_text=True)
                         + client.get(f"/crm/accounts/{full_account}/tabs/timeline")
                         .get_data(as_text=True))
        for marker in markers:
            assert marker in pages[0], (module.name, marker)
            assert marker not in pages[1], (module.name, marker)
            checked += 1
    assert checked, "no module besides CRM contributes to the account page"
