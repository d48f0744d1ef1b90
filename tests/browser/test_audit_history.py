"""The account page's History tab in a browser: loaded by the tab script like any other
tab, newest first, and its pages (plain links) keep the tab open."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from erp.audit import acting_as
from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account
from tests.browser.test_login import sign_in

pytestmark = pytest.mark.browser

CHANGES = 24  # with the creation: 25 entries, 20 on the first page


def test_the_history_tab_loads_and_pages(app, users, make_account, page):
    account_id = make_account(legal_name="Histórica Ltda.")
    with app.app_context():
        with acting_as(db.session.get(User, users["manager"])):
            account = db.session.get(Account, account_id)
            for n in range(CHANGES):
                account.city = f"Cidade {n:02d}"
                db.session.commit()
        db.session.remove()
    sign_in(page, "rep_a")
    page.goto(f"/crm/accounts/{account_id}")
    page.locator('[data-tab="history"]').click()
    panel = page.locator("#panel-history")
    entries = panel.locator("[data-audit-action]")
    expect(entries).to_have_count(20)
    expect(entries.first).to_contain_text("Cidade 23")
    expect(entries.first).to_contain_text("Manager")
    expect(entries.first.locator(".audit-new")).to_have_text("Cidade 23")
    with page.expect_navigation():
        panel.get_by_role("link", name="Older").click()
    assert "tab=history" in page.url and "history_page=2" in page.url
    entries = page.locator("#panel-history [data-audit-action]")
    expect(entries).to_have_count(5)
    expect(entries.last).to_have_attribute("data-audit-action", "create")
    expect(entries.last).to_contain_text("Histórica Ltda.")
