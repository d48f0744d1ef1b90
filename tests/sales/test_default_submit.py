"""Enter in a quote or order form saves it (issue 17): HTML submits a form on Enter with
its first submit button, which was "Add item" without JavaScript. The first one is now a
Save out of sight (visually hidden, out of the tab order, hidden from screen readers),
and a POST carrying its name saves the record."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from erp.db import db
from modules.sales.models import Order, Quote
from tests.conftest import csrf_token, login_as
from tests.sales.support import TODAY

FORMS = {"quote": ("/sales/quotes/new?account_id={}", "quote-form"),
         "order": ("/sales/orders/new?account_id={}", "order-form")}


def first_submit(html: str, form_id: str) -> str:
    form = html.split(f'id="{form_id}"')[1].split("</form>")[0]
    return re.search(r'<button type="submit"[^>]*>', form).group(0)


@pytest.mark.parametrize("kind", FORMS)
def test_the_first_submit_button_of_the_form_saves(client, users, account, kind):
    url, form_id = FORMS[kind]
    login_as(client, users["rep_a"])
    button = first_submit(client.get(url.format(account)).get_data(as_text=True), form_id)
    assert 'name="save"' in button and "add_line" not in button
    assert 'class="visually-hidden"' in button and 'tabindex="-1"' in button
    assert 'aria-hidden="true"' in button


@pytest.mark.parametrize("kind, model", [("quote", Quote), ("order", Order)])
def test_a_post_by_the_default_button_saves(app, client, users, account, kind, model):
    url = FORMS[kind][0].format(account)
    login_as(client, users["rep_a"])
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "save": "1",
        "valid_until": (TODAY + timedelta(days=30)).isoformat(),
        "order_date": TODAY.isoformat(),
        "lines-0-description": "Consultoria", "lines-0-quantity": "2",
        "lines-0-unit_price": "100,00"})
    assert response.status_code == 303
    with app.app_context():
        assert [line.description for line in db.session.scalars(select(model)).one().lines] == [
            "Consultoria"]
