"""The document lines and the pickers in Chromium (issue 17): the quote form totals its
lines while typing with the deal form's script (erp/static/line_items.js), adds and
removes rows, and picks catalog products with a searchable picker (Tom Select, vendored,
erp/static/picker.js) that fills the description and price; the deal form's items pick
from the catalog too; tags and watchers are searchable pickers that post what was chosen.
Without JavaScript the same forms work with plain inputs. No console error and no
Content-Security-Policy violation on the way."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from erp.db import db
from modules.crm.models import Opportunity, Tag
from modules.sales.models import Product, Quote
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_login import sign_in
from tests.crm import conftest as crm_fixtures

pytestmark = pytest.mark.browser

pipeline = crm_fixtures.pipeline

WATCH = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__problems.push(`CSP ${event.effectiveDirective} refused ${event.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def account(make_account):
    return make_account(legal_name="Linhas Navegador Ltda.")


@pytest.fixture
def catalog(app):
    """Three products (one retired); their ids by code."""
    with app.app_context():
        products = [Product(code="CAD-1", name="Cadeira ergonômica", kind="product",
                            price=Decimal("1299.90")),
                    Product(code="MES-2", name="Mesa de reunião", kind="product",
                            price=Decimal("850")),
                    Product(code="SRV-3", name="Montagem", kind="service", price=Decimal("120"),
                            active=False)]
        db.session.add_all(products)
        db.session.commit()
        ids = {p.code: p.id for p in products}
        db.session.remove()
    return ids


@pytest.fixture
def watched(page):
    """The page, recording console errors, failed requests and CSP violations."""
    problems: list[str] = []
    page.add_init_script(WATCH)
    page.on("console", lambda m: problems.append(f"console {m.text}") if m.type == "error"
            else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught {e}"))
    # A request the test's own navigation cut short (a favicon, a search under way when
    # the form is saved) is aborted by the browser, not failed by the app.
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url} ({r.failure})")
            if "ERR_ABORTED" not in (r.failure or "") else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    yield page, problems


def no_problems(page, problems):
    assert problems + page.evaluate("window.__problems || []") == []


def pick(page, select_id: str, typed: str, option: str) -> None:
    """Open the picker that replaced <select id=select_id>, type, click the option. A
    picker that searches the server is let finish its search first (else leaving the page
    right after would abort it, a failed request)."""
    control = page.locator(f"#{select_id}-ts-control")
    control.click()
    if page.locator(f"#{select_id}").get_attribute("data-picker-url"):
        with page.expect_response(lambda r: "/sales/products/pick" in r.url
                                  and f"q={typed}" in r.url):
            control.fill(typed)
    else:
        control.fill(typed)
    page.locator(".ts-dropdown.single, .ts-dropdown.multi").locator(".option", has_text=option) \
        .first.click()


# --- the quote form ---------------------------------------------------------------------------


def test_quote_lines_total_while_typing_add_remove_and_pick_from_the_catalog(
        app, watched, users, account, catalog, monkeypatch):
    """The catalog searched through its JSON endpoint (none of it listed in the page: as a
    large catalog would be), a pick filling description and price."""
    from modules.sales.services import catalog as catalog_service

    monkeypatch.setattr(catalog_service, "INLINE_PRODUCTS_MAX", 0)
    page, problems = watched
    sign_in(page, "rep_a")
    page.goto(f"/sales/quotes/new?account_id={account}")
    rows = page.locator("#lines-table tbody [data-line]")
    expect(rows).to_have_count(1)
    total = page.locator("#lines-sum")

    page.locator("[name='lines-0-description']").fill("Consultoria")
    page.locator("[name='lines-0-quantity']").fill("2")
    page.locator("[name='lines-0-unit_price']").fill("150")
    expect(rows.nth(0).locator("[data-line-total]")).to_have_text("R$300.00")
    page.locator("[name='lines-0-discount']").fill("10")
    expect(rows.nth(0).locator("[data-line-total]")).to_have_text("R$270.00")
    expect(total).to_have_text("R$270.00")

    add = page.get_by_role("button", name="Add item")
    add.click()
    expect(rows).to_have_count(2)
    expect(page.locator("[name='lines-1-description']")).to_be_focused()
    page.locator("[name='lines-1-description']").fill("Frete")
    page.locator("[name='lines-1-unit_price']").fill("1.000,50")  # pt-BR numbers too
    expect(total).to_have_text("R$1,270.50")

    add.click()
    expect(rows).to_have_count(3)
    with page.expect_response(re.compile(r"/sales/products/pick\?q=cad")) as answer:
        pick(page, "lines-2-product_id", "cad", "CAD-1")
    assert answer.value.status == 200
    expect(page.locator("[name='lines-2-description']")).to_have_value("Cadeira ergonômica")
    expect(page.locator("[name='lines-2-unit_price']")).to_have_value("1,299.90")
    expect(rows.nth(2).locator("[data-line-total]")).to_have_text("R$1,299.90")
    expect(total).to_have_text("R$2,570.40")
    # A retired product is not offered.
    page.locator("#lines-2-product_id-ts-control").fill("mont")
    expect(page.locator(".ts-dropdown .no-results")).to_be_visible()
    page.keyboard.press("Escape")

    rows.nth(1).get_by_role("button", name="Remove line").click()
    expect(rows).to_have_count(2)
    expect(total).to_have_text("R$1,569.90")

    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/sales/quotes/\d+$"))
    with app.app_context():
        quote = db.session.scalars(select(Quote)).one()
        assert [(li.product_id, li.description, li.quantity, li.unit_price, li.discount,
                 li.total) for li in quote.lines] == [
            (None, "Consultoria", Decimal(2), Decimal("150.00"), Decimal(10),
             Decimal("270.00")),
            (catalog["CAD-1"], "Cadeira ergonômica", Decimal(1), Decimal("1299.90"),
             Decimal(0), Decimal("1299.90"))]
        assert quote.total == Decimal("1569.90")
        db.session.remove()
    no_problems(page, problems)


def test_editing_a_quote_totals_its_lines_and_a_small_catalog_is_listed(
        app, watched, users, account, catalog):
    page, problems = watched
    sign_in(page, "rep_a")
    page.goto(f"/sales/quotes/new?account_id={account}")
    # A small catalog is in the page: picked without a search on the server.
    pick(page, "lines-0-product_id", "mesa", "MES-2")
    expect(page.locator("[name='lines-0-description']")).to_have_value("Mesa de reunião")
    expect(page.locator("[name='lines-0-unit_price']")).to_have_value("850.00")
    page.locator("[name='lines-0-quantity']").fill("3")
    expect(page.locator("#lines-sum")).to_have_text("R$2,550.00")
    # A description of one's own is kept when another product is picked.
    page.locator("[name='lines-0-description']").fill("Mesa grande, sob medida")
    pick(page, "lines-0-product_id", "cad", "CAD-1")
    expect(page.locator("[name='lines-0-description']")).to_have_value("Mesa grande, sob medida")
    expect(page.locator("[name='lines-0-unit_price']")).to_have_value("1,299.90")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    with app.app_context():
        quote_id = db.session.scalars(select(Quote.id)).one()
        db.session.remove()

    page.goto(f"/sales/quotes/{quote_id}/edit")
    rows = page.locator("#lines-table tbody [data-line]")
    expect(rows).to_have_count(2)  # its line and a blank one
    expect(page.locator("#lines-sum")).to_have_text("R$3,899.70")
    expect(page.locator("#lines-0-product_id-ts-control").locator("..")).to_contain_text("CAD-1")
    rows.nth(0).get_by_role("button", name="Remove line").click()
    expect(rows).to_have_count(1)
    expect(page.locator("#lines-sum")).to_have_text("R$0.00")
    no_problems(page, problems)


# --- the deal form ------------------------------------------------------------------------------


def test_deal_items_pick_from_the_catalog_and_tags_are_searchable(
        app, watched, users, account, catalog, pipeline):
    with app.app_context():
        db.session.add_all([Tag(name="Quente"), Tag(name="Indicação"), Tag(name="Governo")])
        db.session.commit()
        tags = {t.name: t.id for t in db.session.scalars(select(Tag))}
        db.session.remove()
    page, problems = watched
    sign_in(page, "rep_a")
    page.goto(f"/crm/opportunities/new?account_id={account}")
    page.get_by_label("Title", exact=True).fill("Móveis do escritório")

    # Free text still works; a pick fills the description and price of its row.
    page.locator("[name='items-0-description']").fill("Projeto de layout")
    page.locator("[name='items-0-unit_price']").fill("500")
    pick(page, "items-1-catalog", "reun", "MES-2")
    expect(page.locator("[name='items-1-description']")).to_have_value("Mesa de reunião")
    expect(page.locator("[name='items-1-unit_price']")).to_have_value("850.00")
    page.locator("[name='items-1-quantity']").fill("2")
    expect(page.locator("#items-sum")).to_have_text("R$2,200.00")
    rows = page.locator("#items-table tbody [data-line]")
    rows.nth(2).get_by_role("button", name="Remove item").click()
    expect(rows).to_have_count(2)

    # Tags: a searchable picker, no Ctrl-click; its Ctrl hint is for the plain select only.
    expect(page.locator("[data-picker-hint='tag_ids']")).to_be_hidden()
    pick(page, "tag_ids", "que", "Quente")
    pick(page, "tag_ids", "gov", "Governo")
    page.keyboard.press("Escape")
    chosen = page.locator("#tag_ids-ts-control").locator("..").locator(".item")
    expect(chosen).to_contain_text(["Quente", "Governo"])  # each with its remove button
    expect(chosen.get_by_title("Remove")).to_have_count(2)

    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    with app.app_context():
        opportunity = db.session.scalars(select(Opportunity)).one()
        assert [(i.description, i.quantity, i.unit_price) for i in opportunity.items] == [
            ("Projeto de layout", Decimal(1), Decimal("500.00")),
            ("Mesa de reunião", Decimal(2), Decimal("850.00"))]
        assert opportunity.estimated_value == Decimal("2200.00")
        assert sorted(t.id for t in opportunity.tags) == sorted(
            [tags["Quente"], tags["Governo"]])
        db.session.remove()
    no_problems(page, problems)


# --- without JavaScript --------------------------------------------------------------------------


def test_without_javascript_the_quote_form_works_with_plain_inputs(
        app, browser, live_server, users, account, catalog):
    context = browser.new_context(base_url=live_server, locale="en-US",
                                  java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, "rep_a")
        page.goto(f"/sales/quotes/new?account_id={account}")
        rows = page.locator("#lines-table tbody [data-line]")
        expect(rows).to_have_count(1)
        expect(page.locator(".ts-wrapper")).to_have_count(0)
        page.locator("[name='lines-0-product_id']").select_option(
            label="CAD-1 — Cadeira ergonômica")
        page.locator("[name='lines-0-quantity']").fill("2")
        with page.expect_navigation():
            page.get_by_role("button", name="Add item").click()  # posts back, saves nothing
        expect(rows).to_have_count(2)
        expect(page.locator("[name='lines-0-quantity']")).to_have_value("2")
        page.locator("[name='lines-1-description']").fill("Frete")
        page.locator("[name='lines-1-unit_price']").fill("80")
        with page.expect_navigation():
            page.get_by_role("button", name="Save draft").click()
        expect(page).to_have_url(re.compile(r"/sales/quotes/\d+$"))
        with app.app_context():
            quote = db.session.scalars(select(Quote)).one()
            assert [(li.description, li.total) for li in quote.lines] == [
                ("Cadeira ergonômica", Decimal("2599.80")), ("Frete", Decimal("80.00"))]
            assert quote.total == Decimal("2679.80")
            db.session.remove()
        # The tags stay a plain multiple select, with the hint on how to choose several.
        page.goto(f"/crm/accounts/{account}/edit")
        expect(page.locator("select[name='tag_ids'][multiple]")).to_be_visible()
        expect(page.locator("[data-picker-hint='tag_ids']")).to_be_visible()
    finally:
        context.close()


def test_a_picker_s_clear_button_is_a_24px_target_only_when_there_is_a_choice(
        app, watched, users, account, catalog):
    """WCAG 2.5.8 (axe's target-size): Tom Select draws its clear button 12 x 21 px and
    only makes it transparent while nothing is chosen (still there to click, and found by
    axe once the options are loaded). Out of reach with no choice; 24 px once there is."""
    page, problems = watched
    sign_in(page, "rep_a")
    page.goto(f"/sales/quotes/new?account_id={account}")
    wrapper = page.locator(".ts-wrapper").filter(
        has=page.locator("#lines-0-product_id-ts-control"))
    clear = wrapper.locator(".clear-button")
    expect(clear).to_have_count(1)
    expect(clear).to_be_hidden()
    pick(page, "lines-0-product_id", "cad", "CAD-1")
    expect(wrapper).to_have_class(re.compile(r"\bhas-items\b"))
    page.locator("#lines-0-product_id-ts-control").focus()
    expect(clear).to_be_visible()
    box = clear.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, box
    no_problems(page, problems)
