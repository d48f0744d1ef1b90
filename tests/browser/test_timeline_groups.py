"""The timeline filter's kinds grouped by module (issue 17, point 7): one fieldset per module
with its legend, and an "All of <module>" box that checks or clears the group, by mouse or
keyboard; without JavaScript the box is not shown and the kinds are plain checkboxes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import test_account_page as base
from tests.browser.test_account_page import NOTES, TIMELINE_PAGE, events, open_account, panel

# The account page's fixtures (an account with 32 calls and 8 notes; a page without JS).
pipeline = base.pipeline
make_opportunity = base.make_opportunity
account_page = base.account_page
page_without_js = base.page_without_js

pytestmark = pytest.mark.browser


def kinds_of(group) -> list[str]:
    return group.locator('input[name="kind"]').evaluate_all(
        "boxes => boxes.map((box) => box.checked)")


def test_select_all_of_a_module_by_keyboard(page, account_page):
    open_account(page, account_page["id"])
    expect(events(page)).to_have_count(TIMELINE_PAGE)
    timeline = panel(page, "timeline")
    timeline.get_by_text("Filter by kind").click()

    groups = timeline.locator("fieldset.timeline-kind-group")
    legends = groups.locator("legend").all_inner_texts()
    assert legends[0] == "CRM" and "Sales" in legends and len(legends) == len(set(legends))
    crm = timeline.locator('fieldset[data-module="crm"]')
    sales = timeline.locator('fieldset[data-module="sales"]')
    expect(crm.get_by_label("Notes", exact=True)).to_be_visible()
    expect(sales.get_by_label("Quote sent", exact=True)).to_be_visible()
    # Two different things, two different names: CRM's logged proposals, sales' sent quote.
    expect(crm.get_by_label("Proposal activities", exact=True)).to_be_visible()

    toggle = crm.get_by_label("All of CRM", exact=True)
    expect(toggle).to_be_visible()
    expect(toggle).not_to_be_checked()
    toggle.focus()
    page.keyboard.press("Space")
    expect(toggle).to_be_checked()
    assert all(kinds_of(crm)) and not any(kinds_of(sales))
    page.keyboard.press("Space")
    assert not any(kinds_of(crm))

    # One kind on: the group's box says "some" (mixed), neither all nor none.
    crm.get_by_label("Notes", exact=True).check()
    assert toggle.evaluate("box => box.indeterminate") and not toggle.is_checked()
    crm.get_by_label("Calls", exact=True).check()
    toggle.focus()
    page.keyboard.press("Space")  # mixed -> all
    expect(toggle).to_be_checked()
    assert all(kinds_of(crm))

    timeline.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"kind=crm\.note"))
    expect(events(page)).to_have_count(TIMELINE_PAGE)  # calls, notes and the opportunity
    # The filtered tab, drawn again, shows the groups' boxes again, in step with the kinds.
    toggle = panel(page, "timeline").get_by_label("All of CRM", exact=True)
    expect(toggle).to_be_checked()
    toggle.uncheck()
    panel(page, "timeline").locator('fieldset[data-module="crm"]').get_by_label(
        "Notes", exact=True).check()
    panel(page, "timeline").get_by_role("button", name="Filter").click()
    expect(events(page)).to_have_count(NOTES)


def test_without_javascript_the_kinds_are_plain_checkboxes(page_without_js, account_page):
    page = page_without_js
    open_account(page, account_page["id"])
    timeline = panel(page, "timeline")
    timeline.get_by_text("Filter by kind").click()
    crm = timeline.locator('fieldset[data-module="crm"]')
    expect(crm.locator("legend")).to_have_text("CRM")
    expect(crm.get_by_label("All of CRM", exact=True)).to_be_hidden()  # nothing to do it
    crm.get_by_label("Notes", exact=True).check()
    with page.expect_navigation():
        timeline.get_by_role("button", name="Filter").click()
    expect(events(page)).to_have_count(NOTES)
    assert "kind=crm.note" in page.url and "kind-all" not in page.url
