"""Issue 17, point 4, in a real browser: from the new opportunity's account search that
found nothing, "Register a new account" opens the account form with what was typed, and
saving returns to the new opportunity's form with that account chosen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_login import sign_in

pytestmark = pytest.mark.browser


def test_new_opportunity_register_account_and_back(page, users):
    sign_in(page, "rep_a")
    page.goto("/crm/opportunities/new")
    page.get_by_label("Account").fill("Padaria Pão Quente")
    with page.expect_navigation():
        page.get_by_role("button", name="Find").click()
    expect(page.locator("#account-choices")).to_contain_text("No account found.")
    with page.expect_navigation():
        page.get_by_role("link", name="Register a new account").click()
    expect(page.get_by_label("Legal name")).to_have_value("Padaria Pão Quente")

    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    assert "/crm/opportunities/new?account_id=" in page.url
    expect(page.locator("main")).to_contain_text("Padaria Pão Quente")
    expect(page.locator("form [name=title], form #title").first).to_be_visible()


def test_top_bar_search_offers_to_register_a_phone(page, users):
    sign_in(page, "rep_a")
    page.goto("/search?q=(21)+99876-5432")
    offer = page.locator("#search-offers a")
    expect(offer).to_have_count(1)
    with page.expect_navigation():
        offer.click()
    expect(page.get_by_label("Phone", exact=True)).to_have_value("(21) 99876-5432")
    expect(page.get_by_label("CNPJ / CPF")).to_have_value("")
