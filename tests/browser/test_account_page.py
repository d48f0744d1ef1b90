"""The account page in a browser: lazy tabs, counts, the timeline's paging and filter,
and plain links when JavaScript is off."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from erp.auth.models import User
from erp.db import db
from modules.crm.account_page import TIMELINE_PAGE
from modules.crm.services.actions import create_action
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_login import sign_in
from tests.crm import conftest as crm_fixtures

pytestmark = pytest.mark.browser

# The CRM fixtures (tests/crm/conftest.py) are not visible from here: borrow them.
pipeline = crm_fixtures.pipeline
make_opportunity = crm_fixtures.make_opportunity

CALLS, NOTES = 32, 8  # fewer notes than a timeline page: filtered, one page
OPPORTUNITY_TITLE = "Renovação do contrato anual"
CONTACT_NAME = "Marta Compradora"


@pytest.fixture
def account_page(app, users, make_account, make_contact, make_opportunity):
    """An account with 32 calls and 8 notes in the past, one contact and one opportunity.

    Returns the account's id and what its timeline holds: (kind, description) of every
    action, newest first, and the number of events (the actions plus "account created" and
    "opportunity created").
    """
    account_id = make_account(legal_name="Linha do Tempo Ltda.")
    make_contact(account_id=account_id, role="Compras", name=CONTACT_NAME)
    make_opportunity(account_id, title=OPPORTUNITY_TITLE)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    actions = []
    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        for i in range(CALLS + NOTES):
            kind = "note" if i % 5 == 4 else "call"  # every fifth one: 8 notes, 32 calls
            description = f"Evento {i:02d} ({kind})"
            create_action({"account_id": account_id, "kind": kind, "done": True,
                           "at": (start - timedelta(hours=i)).isoformat(),
                           "description": description}, user=user)
            actions.append((f"crm.{kind}", description))
        db.session.remove()
    assert sum(kind == "crm.note" for kind, _ in actions) == NOTES
    return {"id": account_id, "actions": actions, "events": len(actions) + 2}


@pytest.fixture
def page_without_js(browser, live_server):
    """A page whose context runs no JavaScript: the tabs must work as plain links."""
    context = browser.new_context(base_url=live_server, locale="en-US",
                                  java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def tab(page, key: str):
    return page.locator(f"#account-tabs [data-tab='{key}']")


def panel(page, key: str):
    return page.locator(f"#panel-{key}")


def events(page):
    return panel(page, "timeline").locator(".timeline-event")


def shown_events(page) -> list[dict]:
    """Every timeline entry on the page: its kind, time, title and body."""
    return events(page).evaluate_all("""items => items.map((item) => ({
        kind: item.dataset.kind,
        at: item.querySelector("time").getAttribute("datetime"),
        title: item.querySelector("div").textContent.trim(),
        body: (item.querySelector("div.small:not(.text-body-secondary)") || {}).textContent
              || null,
    }))""")


def open_account(page, account_id: int) -> None:
    sign_in(page, "rep_a")
    page.goto(f"/crm/accounts/{account_id}")


def mark_document(page) -> None:
    """Tag this document: the tag is gone if the browser navigates to another page."""
    page.evaluate("window.__sameDocument = true")


def expect_same_document(page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def expect_selected(page, key: str, others=("timeline", "opportunities", "contacts")) -> None:
    expect(tab(page, key)).to_have_class(re.compile(r"\bactive\b"))
    expect(tab(page, key)).to_have_attribute("aria-selected", "true")
    expect(panel(page, key)).to_be_visible()
    for other in others:
        if other != key:
            expect(tab(page, other)).to_have_attribute("aria-selected", "false")
            expect(panel(page, other)).to_be_hidden()


def test_tabs_load_when_opened_the_url_keeps_the_tab_and_counts_arrive(page, account_page):
    account_id = account_page["id"]
    open_account(page, account_id)

    # The timeline comes with the page; the other tabs are empty until opened.
    expect_selected(page, "timeline")
    expect(panel(page, "timeline")).to_have_attribute("data-loaded", "true")
    expect(events(page)).to_have_count(TIMELINE_PAGE)
    expect(page.locator("#timeline-older")).to_be_visible()
    for key in ("opportunities", "contacts"):
        expect(panel(page, key)).to_have_attribute("data-loaded", "false")
        expect(panel(page, key).locator("*")).to_have_count(0)

    # The counts come after the page, whether the tab was opened or not.
    expect(tab(page, "opportunities").locator(".tab-count")).to_have_text("1")
    expect(tab(page, "contacts").locator(".tab-count")).to_have_text("1")
    expect(tab(page, "timeline").locator(".tab-count")).to_have_count(0)

    mark_document(page)
    tab(page, "opportunities").click()
    expect(page).to_have_url(re.compile(rf"/crm/accounts/{account_id}\?tab=opportunities$"))
    expect_selected(page, "opportunities")
    expect(panel(page, "opportunities")).to_have_attribute("data-loaded", "true")
    expect(panel(page, "opportunities").get_by_role("link", name=OPPORTUNITY_TITLE)).to_be_visible()
    expect(panel(page, "opportunities")).not_to_have_attribute("aria-busy", "true")
    expect(panel(page, "contacts")).to_have_attribute("data-loaded", "false")
    expect(panel(page, "timeline")).to_have_attribute("data-loaded", "true")
    expect_same_document(page)  # the URL changed by replaceState, not by navigating
    # Going back to the timeline shows what it had, without loading it again.
    tab(page, "timeline").click()
    expect(page).to_have_url(re.compile(rf"/crm/accounts/{account_id}\?tab=timeline$"))
    expect_selected(page, "timeline")
    expect(events(page)).to_have_count(TIMELINE_PAGE)
    tab(page, "opportunities").click()
    expect(page).to_have_url(re.compile(r"\?tab=opportunities$"))

    # The reload opens the same tab, this time rendered by the server.
    page.reload()
    expect_selected(page, "opportunities")
    expect(panel(page, "opportunities")).to_have_attribute("data-loaded", "true")
    expect(panel(page, "opportunities").get_by_role("link", name=OPPORTUNITY_TITLE)).to_be_visible()
    expect(panel(page, "timeline")).to_have_attribute("data-loaded", "false")
    expect(panel(page, "timeline").locator("*")).to_have_count(0)
    expect(tab(page, "opportunities").locator(".tab-count")).to_have_text("1")
    expect(tab(page, "contacts").locator(".tab-count")).to_have_text("1")

    tab(page, "contacts").click()
    expect(page).to_have_url(re.compile(r"\?tab=contacts$"))
    expect(panel(page, "contacts").get_by_role("link", name=CONTACT_NAME)).to_be_visible()
    expect_selected(page, "contacts")


def test_load_older_shows_every_event_once_and_then_goes_away(page, account_page):
    total = account_page["events"]
    assert total > TIMELINE_PAGE
    open_account(page, account_page["id"])
    expect(events(page)).to_have_count(TIMELINE_PAGE)
    first_page = shown_events(page)

    older = page.locator("#timeline-older")
    mark_document(page)
    count = TIMELINE_PAGE
    while count < total:  # each "Load older" appends the next page, then goes away
        older.click()
        count = min(total, count + TIMELINE_PAGE)
        expect(events(page)).to_have_count(count)
    expect(older).to_have_count(0)
    expect_same_document(page)
    expect(page.locator(".timeline-more")).to_have_count(0)

    shown = shown_events(page)
    assert shown[:TIMELINE_PAGE] == first_page  # appended, the first page left as it was
    keys = [(event["kind"], event["at"], event["title"], event["body"]) for event in shown]
    assert len(set(keys)) == total, "an event is shown twice"
    times = [datetime.fromisoformat(event["at"]) for event in shown]
    assert times == sorted(times, reverse=True), "the timeline is not newest first"
    # The account, then its opportunity, were created now, after every action: they come
    # first, the newest (the opportunity) on top.
    assert [event["kind"] for event in shown[:2]] == ["crm.opportunity_created",
                                                      "crm.account_created"]
    assert OPPORTUNITY_TITLE in shown[0]["title"]
    assert [(event["kind"], event["body"]) for event in shown[2:]] == account_page["actions"]


def test_filter_by_kind_keeps_only_notes_in_place(page, account_page):
    account_id = account_page["id"]
    open_account(page, account_id)
    expect(events(page)).to_have_count(TIMELINE_PAGE)
    timeline = panel(page, "timeline")

    notes = timeline.get_by_label("Notes", exact=True)
    expect(notes).to_be_hidden()  # the kinds are folded away until asked for
    timeline.get_by_text("Filter by kind").click()
    expect(notes).not_to_be_checked()
    notes.check()
    mark_document(page)
    timeline.get_by_role("button", name="Filter").click()

    expect(events(page)).to_have_count(NOTES)
    expect_same_document(page)
    expect(timeline.locator(".timeline-event:not([data-kind='crm.note'])")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/crm/accounts/{account_id}\?(.*&)?kind=crm\.note(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]tab=timeline(&|$)"))
    expect(timeline.get_by_label("Notes", exact=True)).to_be_checked()
    expect(timeline.get_by_label("Calls", exact=True)).not_to_be_checked()
    expect(page.locator("#timeline-older")).to_have_count(0)
    expected = [body for kind, body in account_page["actions"] if kind == "crm.note"]
    assert [event["body"] for event in shown_events(page)] == expected

    # The URL it left is the same view, rendered by the server.
    page.reload()
    expect_selected(page, "timeline")
    expect(events(page)).to_have_count(NOTES)
    expect(timeline.locator(".timeline-event:not([data-kind='crm.note'])")).to_have_count(0)
    expect(timeline.get_by_label("Notes", exact=True)).to_be_checked()


def test_without_javascript_the_tabs_are_plain_links(page_without_js, account_page):
    page = page_without_js
    account_id = account_page["id"]
    open_account(page, account_id)
    expect_selected(page, "timeline")
    expect(events(page)).to_have_count(TIMELINE_PAGE)

    with page.expect_navigation():
        tab(page, "contacts").click()
    expect(page).to_have_url(re.compile(rf"/crm/accounts/{account_id}\?tab=contacts$"))
    expect_selected(page, "contacts")
    expect(panel(page, "contacts")).to_have_attribute("data-loaded", "true")
    expect(panel(page, "contacts").locator("#account-contacts")
           .get_by_role("link", name=CONTACT_NAME)).to_be_visible()
    expect(panel(page, "timeline").locator("*")).to_have_count(0)
    expect(panel(page, "opportunities").locator("*")).to_have_count(0)

    # "Load older" is a plain link too: the full page with the next events.
    with page.expect_navigation():
        tab(page, "timeline").click()
    with page.expect_navigation():
        page.locator("#timeline-older").click()
    expect(page).to_have_url(re.compile(r"[?&]before="))
    expect(events(page)).to_have_count(min(TIMELINE_PAGE,
                                           account_page["events"] - TIMELINE_PAGE))
