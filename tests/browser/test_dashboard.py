"""The home dashboard in a real browser: the cards side by side on a wide screen and
stacked on a phone, and "Done" from the agenda card (a plain form post with CSRF)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from erp.auth.models import User
from erp.clock import local_today
from erp.db import db
from modules.crm.services import actions as action_service
from tests.browser.test_login import sign_in

pytestmark = pytest.mark.browser

KEYS = ["crm.agenda", "crm.pipeline", "finance.overdue", "service.open_orders"]


@pytest.fixture
def planned(app, users, make_account):
    """Two planned calls for the manager: one overdue, one today."""
    account = make_account(owner="manager", legal_name="Conta do Gerente Ltda.")
    with app.app_context(), app.test_request_context():
        manager = db.session.get(User, users["manager"])
        today = local_today()
        for day in (today - timedelta(days=2), today):
            action_service.create_action({"account_id": account, "kind": "call", "done": "0",
                                          "at": f"{day.isoformat()}T09:00"}, user=manager)
        db.session.remove()


def widget_boxes(page) -> list[dict]:
    return [page.locator(f'[data-widget="{key}"]').bounding_box() for key in KEYS]


def test_cards_lay_out_and_done_works_from_the_agenda(page, users, planned):
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, "manager")  # sees all four widgets
    agenda = page.locator('[data-widget="crm.agenda"]')
    expect(agenda.locator(".crm-agenda-widget")).to_have_attribute("data-overdue", "1")
    boxes = widget_boxes(page)
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["x"] < boxes[1]["x"]  # side by side
    assert boxes[2]["y"] > boxes[0]["y"]  # the next row

    agenda.get_by_role("button", name="Done").first.click()
    expect(agenda.locator(".crm-agenda-widget")).to_have_attribute("data-overdue", "0")
    expect(agenda.locator(".crm-agenda-widget")).to_have_attribute("data-today", "1")
    expect(page.get_by_text("Action marked as done.")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: one card per row
    boxes = widget_boxes(page)
    assert all(a["y"] < b["y"] for a, b in zip(boxes, boxes[1:], strict=False))
    assert all(box["width"] > 300 for box in boxes)
