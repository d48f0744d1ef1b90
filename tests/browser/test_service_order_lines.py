"""The service order form's items in Chromium (issue 17): the quote form's line script
(erp/static/line_items.js) totals the items and the hours while typing, adds and removes
rows; and, without JavaScript, Enter in an item's or a line's description saves the
service order or the quote (the form's default button is Save, not "Add item")."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from erp.clock import local_today
from erp.db import db
from modules.sales.models import Quote
from modules.service.models import ServiceOrder
from tests.browser import test_line_pickers as pickers
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_login import sign_in

pytestmark = pytest.mark.browser

# The page recording console errors, failed requests and CSP violations (borrowed).
watched = pickers.watched
no_problems = pickers.no_problems


@pytest.fixture
def account(make_account):
    return make_account(legal_name="Serviço Navegador Ltda.")


def test_service_items_and_hours_total_while_typing_add_and_remove(app, watched, users,
                                                                   account):
    page, problems = watched
    sign_in(page, "service")
    page.goto(f"/service/orders/new?account_id={account}")
    page.get_by_label("Description", exact=True).fill("Manutenção da rede")
    rows = page.locator("#items-table tbody [data-line]")
    expect(rows).to_have_count(1)
    items, hours, total = (page.locator(f"#{name}") for name in
                           ("items-sum", "hours-sum", "order-total"))

    page.locator("[name='items-0-description']").fill("Cabo de rede")
    page.locator("[name='items-0-quantity']").fill("3")
    page.locator("[name='items-0-unit_price']").fill("12,50")  # pt-BR numbers
    expect(rows.nth(0).locator("[data-line-total]")).to_have_text("R$37.50")
    expect(items).to_have_text("R$37.50")
    expect(total).to_have_text("R$37.50")

    add = page.get_by_role("button", name="Add item")
    add.click()
    expect(rows).to_have_count(2)
    expect(page.locator("[name='items-1-description']")).to_be_focused()
    page.locator("[name='items-1-description']").fill("Switch 24 portas")
    page.locator("[name='items-1-unit_price']").fill("1.000")
    expect(items).to_have_text("R$1,037.50")
    add.click()
    page.locator("[name='items-2-description']").fill("Conector")
    page.locator("[name='items-2-quantity']").fill("10")
    page.locator("[name='items-2-unit_price']").fill("0,80")
    expect(items).to_have_text("R$1,045.50")

    # The hours: one more line in the order's total.
    page.get_by_label("Hours", exact=True).fill("2,5")
    page.get_by_label("Hourly rate").fill("120")
    expect(hours).to_have_text("R$300.00")
    expect(total).to_have_text("R$1,345.50")

    rows.nth(1).get_by_role("button", name="Remove item").click()
    expect(rows).to_have_count(2)
    expect(items).to_have_text("R$45.50")
    expect(total).to_have_text("R$345.50")

    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/service/orders/\d+$"))
    with app.app_context():
        order = db.session.scalars(select(ServiceOrder)).one()
        assert [(i.description, i.quantity, i.unit_price, i.total) for i in order.items] == [
            ("Cabo de rede", Decimal(3), Decimal("12.50"), Decimal("37.50")),
            ("Conector", Decimal(10), Decimal("0.80"), Decimal("8.00"))]
        assert (order.items_total, order.hours_total, order.total) == (
            Decimal("45.50"), Decimal("300.00"), Decimal("345.50"))
        order_id = order.id
        db.session.remove()

    # Editing: the saved items, one blank row, the totals as saved.
    page.goto(f"/service/orders/{order_id}/edit")
    expect(rows).to_have_count(3)
    expect(total).to_have_text("R$345.50")
    no_problems(page, problems)


@pytest.fixture
def no_script(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="en-US",
                                  java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def test_without_javascript_enter_in_an_item_saves_the_service_order(app, no_script, users,
                                                                     account):
    page = no_script
    sign_in(page, "service")
    page.goto(f"/service/orders/new?account_id={account}")
    page.get_by_label("Description", exact=True).fill("Troca de fonte")
    page.locator("[name='items-0-quantity']").fill("1")
    page.locator("[name='items-0-unit_price']").fill("250")
    page.locator("[name='items-0-description']").fill("Fonte 500 W")
    with page.expect_navigation():
        page.locator("[name='items-0-description']").press("Enter")
    expect(page).to_have_url(re.compile(r"/service/orders/\d+$"))
    with app.app_context():
        order = db.session.scalars(select(ServiceOrder)).one()
        assert [i.description for i in order.items] == ["Fonte 500 W"]
        assert order.total == Decimal("250.00")
        db.session.remove()


def test_without_javascript_enter_in_a_line_saves_the_quote(app, no_script, users, account):
    page = no_script
    sign_in(page, "rep_a")
    page.goto(f"/sales/quotes/new?account_id={account}")
    with app.app_context():
        valid = (local_today() + timedelta(days=30)).isoformat()
    page.get_by_label("Valid until").fill(valid)
    page.locator("[name='lines-0-unit_price']").fill("99,90")
    page.locator("[name='lines-0-description']").fill("Consultoria")
    with page.expect_navigation():
        page.locator("[name='lines-0-description']").press("Enter")
    expect(page).to_have_url(re.compile(r"/sales/quotes/\d+$"))
    with app.app_context():
        quote = db.session.scalars(select(Quote)).one()
        assert [(li.description, li.total) for li in quote.lines] == [
            ("Consultoria", Decimal("99.90"))]
        db.session.remove()
