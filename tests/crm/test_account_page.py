"""CRM's account page itself: the timeline's "Load older" and kind filter, a bad cursor,
a failing source or count, the Create menu's links, the stats' figures.

What every module's contributions to the page must honour (tabs, stats, Create entries,
timeline sources, for users with and without their permission) is the module contract:
tests/erp/test_module_contract.py.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from erp.db import db
from erp.registry import TimelineSource
from modules.crm.account_page import TIMELINE_PAGE
from modules.crm.kinds import AccountTab
from modules.crm.models import Account, Action
from tests.conftest import login_as

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def registry(app):
    return app.extensions["erp"]


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


@dataclasses.dataclass
class Replaced:
    """One registry entry swapped for a copy with other fields, put back on exit."""

    app: object
    kind: type
    key: str
    changes: dict

    def __enter__(self):
        entries = registry(self.app)._entries[self.kind]
        self.original = entries[self.key]
        entries[self.key] = dataclasses.replace(self.original, item=dataclasses.replace(
            self.original.item, **self.changes))
        registry(self.app)._ordered.pop(self.kind, None)  # the frozen registry's order cache

    def __exit__(self, *exc):
        registry(self.app)._entries[self.kind][self.key] = self.original
        registry(self.app)._ordered.pop(self.kind, None)


def test_timeline_pages_through_load_older_and_filters_by_kind(app, client, users,
                                                               full_account):
    add_actions(app, users, full_account, 39)  # a total that is no multiple of the page
    add_actions(app, users, full_account, 3, kind="visit")
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{full_account}").get_data(as_text=True)
    # the fixture's actions, these, "opportunity created" and "account created" (issue 17)
    total = 5 + 39 + 3 + 1 + 1
    assert html.count('class="timeline-event') == TIMELINE_PAGE
    shown, pages = TIMELINE_PAGE, 1
    while 'id="timeline-older"' in html:
        fragment_url = re.search(r'data-fragment-url="([^"]*append=1[^"]*)"', html).group(1)
        html = client.get(fragment_url.replace("&amp;", "&")).get_data(as_text=True)
        count = html.count('class="timeline-event')
        assert count == min(TIMELINE_PAGE, total - shown)
        shown, pages = shown + count, pages + 1
    assert shown == total and pages == -(-total // TIMELINE_PAGE)  # then no more pages
    visits = client.get(f"/crm/accounts/{full_account}/tabs/timeline?kind=crm.visit")
    kinds = re.findall(r'data-kind="([^"]+)"', visits.get_data(as_text=True))
    assert kinds == ["crm.visit"] * 3


def test_bad_cursor_shows_the_first_page(client, users, full_account):
    login_as(client, users["rep_a"])
    response = client.get(f"/crm/accounts/{full_account}/tabs/timeline?before=garbage")
    assert response.status_code == 200 and 'class="timeline-event' in response.get_data(
        as_text=True)


def test_a_failing_source_becomes_a_notice(app, client, users, full_account):
    def broken(*args):
        raise RuntimeError("boom")

    with Replaced(app, TimelineSource, "crm.pipeline", {"fetch": broken}):
        login_as(client, users["rep_a"])
        html = client.get(f"/crm/accounts/{full_account}").get_data(as_text=True)
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
    def broken(account):
        raise RuntimeError("slow disk")

    with Replaced(app, AccountTab, "contacts", {"count": broken}):
        login_as(client, users["rep_a"])
        body = client.get(f"/crm/accounts/{full_account}/tabs/contacts/count").get_json()
    assert body == {"count": None}  # the page's script shows "?"


def test_account_page_shows_the_stats(app, client, users, full_account):
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{full_account}").get_data(as_text=True)
    stat = html[html.index('data-stat="crm.open_value"'):]
    assert "R$10.00" in stat[:400]
    with app.app_context():
        assert db.session.get(Account, full_account) is not None
