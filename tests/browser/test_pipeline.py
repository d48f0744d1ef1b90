"""The funnel's drag and drop and the opportunity form's items and autosave, in a browser."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from erp.auth.models import User
from erp.db import db
from modules.crm.models import Opportunity, OpportunityDraft
from tests.browser.test_login import sign_in
from tests.crm import conftest as crm_fixtures

pytestmark = pytest.mark.browser

# The CRM fixtures (tests/crm/conftest.py) are not visible from here: borrow them.
pipeline = crm_fixtures.pipeline
make_opportunity = crm_fixtures.make_opportunity

PROSPECT, NEGOTIATION = "Prospecção", "Negociação"
# The page is in English (the browser asks for en-US): R$2,469.00, not R$ 2.469,00.
TOTAL_2469 = "R$2,469.00"
AUTOSAVE_TIMEOUT_MS = 30_000


@pytest.fixture
def account(make_account):
    return make_account(legal_name="Funil Navegador Ltda.")


@pytest.fixture
def fast_autosave(app):
    """Autosave every second (the template reads the setting when it renders)."""
    missing = object()
    saved = app.config.get("CRM_AUTOSAVE_SECONDS", missing)
    app.config["CRM_AUTOSAVE_SECONDS"] = 1
    yield
    if saved is missing:
        app.config.pop("CRM_AUTOSAVE_SECONDS", None)
    else:
        app.config["CRM_AUTOSAVE_SECONDS"] = saved


def item(description: str, unit_price: str, quantity: str = "1") -> dict:
    return {"description": description, "quantity": quantity, "unit_price": unit_price}


def row(app, opportunity_id: int) -> dict:
    """The opportunity's columns the tests look at, read in an app context of its own."""
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        data = {"stage_id": opportunity.stage_id, "status": opportunity.status,
                "loss_reason_id": opportunity.loss_reason_id}
        db.session.remove()
    return data


def wait_for(condition, timeout: float = AUTOSAVE_TIMEOUT_MS / 1000, interval: float = 0.2):
    """Poll ``condition`` (run outside the browser, e.g. on the database) until truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# --- the funnel ---------------------------------------------------------------------------


def card(page, opportunity_id: int):
    return page.locator(f".funnel-card[data-id='{opportunity_id}']")


def cards_of(page, stage_id: int):
    return page.locator(f".funnel-cards[data-stage-id='{stage_id}']")


def header(page, stage_id: int, part: str):
    return page.locator(f"section.funnel-column[data-stage-id='{stage_id}'] .column-{part}")


def drag(page, opportunity_id: int, target: str) -> None:
    """Drag a card by its top edge (its middle holds the stage selector) onto ``target``."""
    expect(card(page, opportunity_id)).to_be_in_viewport()
    expect(page.locator(target)).to_be_in_viewport()
    page.drag_and_drop(f".funnel-card[data-id='{opportunity_id}']", target,
                       source_position={"x": 12, "y": 4})


def is_post_to(path_end: str):
    return lambda response: (response.request.method == "POST"
                             and response.url.endswith(path_end))


def open_funnel(page) -> None:
    # Wide enough for every column and the close zones: a drag that has to scroll the
    # funnel sideways mid-way never starts in Chromium (Playwright scrolls the target into
    # view after pressing the mouse on the card).
    page.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(page, "rep_a")
    page.goto("/crm/funnel")
    expect(page.locator("#funnel-csrf")).to_be_attached()


def test_drag_a_card_to_another_stage_and_it_stays_there(app, page, pipeline, account,
                                                        make_opportunity):
    stages = pipeline["stages"]
    prospect, negotiation = stages[PROSPECT], stages[NEGOTIATION]
    moving = make_opportunity(account, title="Mudar de estágio",
                              items=[item("Licença", "1.000,00")])
    make_opportunity(account, title="Fica em prospecção", items=[item("Licença", "200")])
    make_opportunity(account, title="Já em negociação", stage_id=negotiation,
                     items=[item("Licença", "50")])

    open_funnel(page)
    expect(header(page, prospect, "count")).to_have_text("2")
    expect(header(page, prospect, "value")).to_have_text("R$1,200.00")
    expect(header(page, negotiation, "count")).to_have_text("1")
    expect(header(page, negotiation, "value")).to_have_text("R$50.00")

    with page.expect_response(is_post_to(f"/opportunities/{moving}/stage")) as answer:
        drag(page, moving, f".funnel-cards[data-stage-id='{negotiation}']")
    assert answer.value.status == 200
    assert answer.value.json()["stage_id"] == negotiation

    expect(cards_of(page, negotiation).locator(f"[data-id='{moving}']")).to_have_count(1)
    expect(header(page, prospect, "count")).to_have_text("1")
    expect(header(page, prospect, "value")).to_have_text("R$200.00")
    expect(header(page, negotiation, "count")).to_have_text("2")
    expect(header(page, negotiation, "value")).to_have_text("R$1,050.00")
    expect(card(page, moving).locator("select[name='stage_id']")).to_have_value(str(negotiation))
    expect(page.locator("#funnel-message")).to_be_hidden()

    page.reload()
    expect(cards_of(page, negotiation).locator(f"[data-id='{moving}']")).to_have_count(1)
    expect(cards_of(page, prospect).locator(f"[data-id='{moving}']")).to_have_count(0)
    expect(header(page, prospect, "count")).to_have_text("1")
    expect(header(page, negotiation, "count")).to_have_text("2")
    assert row(app, moving)["stage_id"] == negotiation


def test_drop_on_lost_asks_the_reason_cancel_changes_nothing(app, page, pipeline, account,
                                                            make_opportunity):
    prospect = pipeline["stages"][PROSPECT]
    reason_name = "Prazo de entrega longo"
    reason = pipeline["reasons"][reason_name]
    losing = make_opportunity(account, title="Vai ser perdida", items=[item("Licença", "300")])

    open_funnel(page)
    dialog = page.locator("#lost-dialog")
    lost_zone = ".funnel-drop[data-status='lost']"

    drag(page, losing, lost_zone)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Why was it lost?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(cards_of(page, prospect).locator(f"[data-id='{losing}']")).to_have_count(1)
    expect(header(page, prospect, "count")).to_have_text("1")
    assert row(app, losing)["status"] == "open"

    drag(page, losing, lost_zone)
    expect(dialog).to_be_visible()
    # The dialog starts blank again, and will not close without a reason.
    expect(dialog.get_by_label("Loss reason")).to_have_value("")
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Loss reason")).to_have_js_property("validity.valueMissing", True)
    dialog.get_by_label("Loss reason").select_option(label=reason_name)
    dialog.get_by_label("Note").fill("Precisava para ontem")
    with page.expect_response(is_post_to(f"/opportunities/{losing}/status")) as answer:
        dialog.get_by_role("button", name="Mark as lost").click()
    assert answer.value.status == 200
    expect(dialog).to_be_hidden()
    expect(card(page, losing)).to_have_count(0)
    expect(header(page, prospect, "count")).to_have_text("0")
    expect(page.locator("#funnel-message")).to_have_text("Marked as lost.")

    assert row(app, losing) == {"stage_id": prospect, "status": "lost",
                                "loss_reason_id": reason}
    page.reload()
    expect(card(page, losing)).to_have_count(0)


def test_a_refused_move_puts_the_card_back_and_says_why(app, page, users, pipeline, account,
                                                       make_opportunity):
    from modules.crm.services.opportunities import mark_won

    stages = pipeline["stages"]
    prospect, negotiation = stages[PROSPECT], stages[NEGOTIATION]
    closed = make_opportunity(account, title="Fechada em outra aba")
    make_opportunity(account, title="Vizinha")

    open_funnel(page)
    expect(cards_of(page, prospect).locator(".funnel-card")).to_have_count(2)
    # Someone wins it elsewhere after this page loaded.
    with app.app_context():
        mark_won(db.session.get(Opportunity, closed), user=db.session.get(User, users["rep_a"]))
        db.session.remove()

    with page.expect_response(is_post_to(f"/opportunities/{closed}/stage")) as answer:
        drag(page, closed, f".funnel-cards[data-stage-id='{negotiation}']")
    assert answer.value.status == 422

    message = page.locator("#funnel-message")
    expect(message).to_have_text("This opportunity is closed: reopen it first.")
    expect(message).to_have_class(re.compile(r"\balert-danger\b"))
    expect(message).to_be_visible()
    expect(cards_of(page, prospect).locator(f"[data-id='{closed}']")).to_have_count(1)
    expect(cards_of(page, negotiation).locator(".funnel-card")).to_have_count(0)
    expect(header(page, prospect, "count")).to_have_text("2")
    expect(header(page, negotiation, "count")).to_have_text("0")
    assert row(app, closed)["stage_id"] == prospect

    page.reload()  # the won opportunity leaves the funnel; nothing moved to Negociação
    expect(card(page, closed)).to_have_count(0)
    expect(header(page, negotiation, "count")).to_have_text("0")
    expect(header(page, prospect, "count")).to_have_text("1")
    assert row(app, closed) == {"stage_id": prospect, "status": "won", "loss_reason_id": None}


def test_move_to_from_the_keyboard_moves_the_card_without_leaving_the_page(
        app, page, pipeline, account, make_opportunity):
    """Moving without dragging (issue 17): each card's "Move to…" is closed, one small
    line; opened from the keyboard it offers the stages, and Move saves without a reload."""
    stages = pipeline["stages"]
    prospect, negotiation = stages[PROSPECT], stages[NEGOTIATION]
    moving = make_opportunity(account, title="Pelo teclado", items=[item("Licença", "400")])

    open_funnel(page)
    moving_card = card(page, moving)
    selector = moving_card.locator("select[name='stage_id']")
    expect(selector).to_be_hidden()  # no selector cluttering the card until asked for
    toggle = moving_card.locator("summary")
    expect(toggle).to_have_text("Move to… Pelo teclado")
    page.evaluate("window.__sameDocument = true")

    toggle.focus()
    page.keyboard.press("Enter")
    expect(selector).to_be_visible()
    selector.focus()
    selector.select_option(str(negotiation))
    with page.expect_response(is_post_to(f"/opportunities/{moving}/stage")) as answer:
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # on Move
    assert answer.value.status == 200

    expect(cards_of(page, negotiation).locator(f"[data-id='{moving}']")).to_have_count(1)
    expect(header(page, prospect, "count")).to_have_text("0")
    expect(header(page, negotiation, "count")).to_have_text("1")
    expect(header(page, negotiation, "value")).to_have_text("R$400.00")
    expect(selector).to_be_hidden()  # closed again, the focus back on its "Move to…"
    expect(toggle).to_be_focused()
    assert page.evaluate("window.__sameDocument") is True  # no page load
    assert row(app, moving)["stage_id"] == negotiation


# --- the opportunity form -------------------------------------------------------------------


def test_autosave_keeps_a_draft_that_reopens_and_then_saves(app, page, users, pipeline, account,
                                                           fast_autosave):
    sign_in(page, "rep_a")
    page.goto(f"/crm/opportunities/new?account_id={account}")
    status = page.locator("#autosave-status")
    expect(status).to_have_text("")

    page.get_by_label("Title").fill("Rascunho automático")
    page.locator("[name='items-0-description']").fill("Licença ERP")
    page.locator("[name='items-0-quantity']").fill("2")
    page.locator("[name='items-0-unit_price']").fill("1.234,50")
    expect(page.locator("#items-sum")).to_have_text(TOTAL_2469)
    expect(page.locator(".item-row").first.locator(".item-total")).to_have_text(TOTAL_2469)

    # No button: the form saves by itself.
    expect(status).to_contain_text("Draft saved at", timeout=AUTOSAVE_TIMEOUT_MS)

    def saved_draft():
        with app.app_context():
            drafts = db.session.scalars(select(OpportunityDraft)).all()
            found = [(d.id, d.user_id, d.opportunity_id, d.title, dict(d.payload))
                     for d in drafts]
            db.session.remove()
        if len(found) == 1 and found[0][4].get("items-0-unit_price") == "1.234,50":
            return found[0]
        return None

    draft = wait_for(saved_draft)  # the last keystrokes may be in the next autosave
    assert draft, "the autosaved draft never held the whole form"
    draft_id, user_id, opportunity_id, title, payload = draft
    assert (user_id, opportunity_id, title) == (users["rep_a"], None, "Rascunho automático")
    assert payload["items-0-description"] == "Licença ERP"
    assert payload["items-0-quantity"] == "2"
    assert payload["account_id"] == str(account)
    expect(page.locator("input[name='draft_id']")).to_have_value(str(draft_id))

    page.goto("/crm/drafts")
    with page.expect_navigation():
        page.locator("#drafts-table").get_by_role("link", name="Rascunho automático").click()
    expect(page).to_have_url(re.compile(rf"/crm/opportunities/new\?draft={draft_id}$"))
    expect(page.get_by_text("Draft from")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Rascunho automático")
    expect(page.locator("[name='items-0-description']")).to_have_value("Licença ERP")
    expect(page.locator("[name='items-0-quantity']")).to_have_value("2")
    expect(page.locator("[name='items-0-unit_price']")).to_have_value("1.234,50")
    expect(page.locator("input[name='draft_id']")).to_have_value(str(draft_id))
    expect(page.locator("#items-sum")).to_have_text(TOTAL_2469)

    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/crm/actions/new\?opportunity_id=\d+$"))
    with app.app_context():
        assert db.session.scalars(select(OpportunityDraft)).all() == []
        opportunity = db.session.scalars(select(Opportunity)).one()
        assert opportunity.title == "Rascunho automático"
        assert opportunity.account_id == account
        assert opportunity.estimated_value == Decimal("2469.00")
        assert [(i.description, i.quantity, i.unit_price) for i in opportunity.items] == [
            ("Licença ERP", Decimal("2"), Decimal("1234.50"))]
        db.session.remove()


def test_add_item_adds_a_fourth_row_counted_in_the_total(app, page, users, pipeline, account):
    sign_in(page, "rep_a")
    page.goto(f"/crm/opportunities/new?account_id={account}")
    rows = page.locator("#items-table tbody .item-row")
    expect(rows).to_have_count(3)

    page.get_by_label("Title").fill("Com quatro itens")
    page.locator("[name='items-0-description']").fill("Licença ERP")
    page.locator("[name='items-0-quantity']").fill("2")
    page.locator("[name='items-0-unit_price']").fill("1.234,50")
    expect(page.locator("#items-sum")).to_have_text(TOTAL_2469)

    page.get_by_role("button", name="Add item").click()
    expect(rows).to_have_count(4)
    new_row = rows.nth(3)
    # The named inputs (the row's catalog picker, issue 17, types into one of its own).
    names = [new_row.locator("input[name]").nth(i).get_attribute("name") for i in range(3)]
    assert names == ["items-3-description", "items-3-quantity", "items-3-unit_price"]
    for field in ("description", "quantity", "unit_price"):
        expect(new_row.locator(f"[name='items-3-{field}']")).to_have_value("")
        expect(new_row.locator(f"[name='items-3-{field}']")).to_have_id(f"items-3-{field}")
    expect(new_row.locator("[name='items-3-description']")).to_be_focused()

    new_row.locator("[name='items-3-description']").fill("Treinamento")
    new_row.locator("[name='items-3-quantity']").fill("1,5")
    new_row.locator("[name='items-3-unit_price']").fill("200")
    expect(new_row.locator(".item-total")).to_have_text("R$300.00")
    expect(page.locator("#items-sum")).to_have_text("R$2,769.00")

    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    with app.app_context():
        opportunity = db.session.scalars(select(Opportunity)).one()
        assert opportunity.estimated_value == Decimal("2769.00")
        assert [i.description for i in opportunity.items] == ["Licença ERP", "Treinamento"]
        db.session.remove()
