"""The service order form's items on the server (issue 17): the same line script as the
quote form (erp/static/line_items.js, hours included in the total), any number of rows up
to a clear maximum, per-item errors with nothing written, "Add item" without JavaScript,
and Save as the form's default button (Enter in an input saves, not "Add item")."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import func, select

from erp.db import db
from modules.service.forms.orders import MAX_ROWS
from modules.service.models import ServiceEvent, ServiceOrder, ServiceOrderItem
from tests.conftest import csrf_token, login_as

NEW = "/service/orders/new?account_id={}"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def items(*lines, start: int = 0, step: int = 1) -> dict:
    """Form fields of items (description, quantity, price) at indices start, start+step, …
    (the script leaves gaps where rows were removed)."""
    data = {}
    for n, values in enumerate(lines):
        for name, value in zip(("description", "quantity", "unit_price"), values, strict=True):
            data[f"items-{start + n * step}-{name}"] = value
    return data


def post_order(client, users, account_id, fields: dict, url: str | None = None, **extra):
    url = url or NEW.format(account_id)
    return client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "description": "Manutenção da rede",
                                  "technician_id": str(users["service"]),
                                  **fields, **extra})


def row_names(html: str) -> list[str]:
    return re.findall(r'name="(items-\d+)-description"', html)


def test_the_form_has_one_row_the_line_script_and_the_hours_as_an_extra_line(
        client, users, make_account):
    account = make_account(legal_name="Itens Serviço Ltda.")
    login_as(client, users["service"])
    html = client.get(NEW.format(account)).get_data(as_text=True)
    assert row_names(html) == ["items-0"]
    assert 'data-line-items="items"' in html and "line_items.js" in html
    assert re.search(r'<button type="submit"[^>]*name="add_line"[^>]*data-line-add="items-table"',
                     html)
    # The hours are a line of their own for the script, and the order's total is shown.
    extra = html.split('data-line-extra="items-table"')[1].split("</fieldset>")[0]
    assert re.search(r'<input[^>]*data-line-quantity[^>]*name="hours"', extra)
    assert re.search(r'<input[^>]*data-line-price[^>]*name="hourly_rate"', extra)
    assert 'data-lines-grand="items-table"' in html
    # No catalog: service items are free text (service depends on CRM only).
    assert "data-line-product" not in html and "data-picker-url" not in html


def test_many_items_are_all_saved_in_order_with_the_hours(app, client, users, make_account):
    """Fifteen items posted with gaps where rows were removed in the page."""
    account = make_account(legal_name="Itens Serviço Ltda.")
    login_as(client, users["service"])
    lines = [(f"Peça {n}", str(n), "10,00") for n in range(1, 16)]
    response = post_order(client, users, account, items(*lines, start=1, step=3),
                          hours="1,5", hourly_rate="100")
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalars(select(ServiceOrder)).one()
        assert [(i.position, i.description, i.quantity) for i in order.items] == [
            (n - 1, f"Peça {n}", Decimal(n)) for n in range(1, 16)]
        assert order.items_total == Decimal("1200.00")  # 10 × (1 + … + 15)
        assert order.hours_total == Decimal("150.00")
        assert order.total == Decimal("1350.00")


def test_more_rows_than_the_maximum_is_one_clear_error_and_nothing_written(
        app, client, users, make_account):
    account = make_account(legal_name="Itens Serviço Ltda.")
    login_as(client, users["service"])
    lines = [(f"Peça {n}", "1", "1,00") for n in range(MAX_ROWS + 1)]
    response = post_order(client, users, account, items(*lines))
    assert response.status_code == 422
    assert f"At most {MAX_ROWS} items." in response.get_data(as_text=True)
    for model in (ServiceOrder, ServiceOrderItem, ServiceEvent):
        assert count(app, model) == 0
    # The maximum itself is fine, every row kept (none silently dropped).
    response = post_order(client, users, account, items(*lines[:MAX_ROWS]))
    assert response.status_code == 303
    with app.app_context():
        assert len(db.session.scalars(select(ServiceOrder)).one().items) == MAX_ROWS


def test_bad_items_say_which_and_why_and_nothing_is_written(app, client, users,
                                                            make_account):
    account = make_account(legal_name="Itens Serviço Ltda.")
    login_as(client, users["service"])
    response = post_order(client, users, account, items(
        ("Cabo de rede", "2", "15,00"),
        ("Conector", "dois", "1,50"),
        ("Switch", "1", ""),  # no price
        ("", "3", "10")))  # no description
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Check items 2, 3, 4." in html
    row = {n: html.split(f'name="items-{n}-description"')[1].split("</tr>")[0]
           for n in range(4)}
    assert "is-invalid" not in row[0]
    assert "Use a quantity greater than zero." in row[1]
    assert "Give the unit price." in row[2]
    assert "Describe the item." in html.split('id="items-3-description"')[1].split("</td>")[0]
    assert "Conector" in html and 'value="dois"' in html  # what was typed is kept
    for model in (ServiceOrder, ServiceOrderItem, ServiceEvent):
        assert count(app, model) == 0


def test_names_that_are_not_plain_row_numbers_are_not_rows(app, client, users, make_account):
    account = make_account(legal_name="Itens Serviço Ltda.")
    login_as(client, users["service"])
    response = post_order(client, users, account, {
        **items(("Cabo", "1", "5")), "items-²-description": "x", "items-x-quantity": "2",
        "items-1234567890-description": "y"})
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalars(select(ServiceOrder)).one()
        assert [i.description for i in order.items] == ["Cabo"]


def test_add_item_without_javascript_shows_the_form_again_with_one_more_row(
        app, client, users, make_account):
    account = make_account(legal_name="Itens Serviço Ltda.")
    login_as(client, users["service"])
    response = post_order(client, users, account, items(("Cabo", "2", "5,00")), add_line="1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert row_names(html) == ["items-0", "items-1"]
    assert 'value="Cabo"' in html and "is-invalid" not in html
    assert count(app, ServiceOrder) == 0


def test_editing_shows_the_items_and_one_blank_row_and_saves_added_ones(
        app, client, users, make_account, make_order):
    account = make_account(legal_name="Itens Serviço Ltda.")
    order_id = make_order(account)  # one item: 2 × Cabo 50,00
    login_as(client, users["service"])
    url = f"/service/orders/{order_id}/edit"
    html = client.get(url).get_data(as_text=True)
    assert row_names(html) == ["items-0", "items-1"]
    assert 'id="order-total"' in html and "R$100.00" in html  # the saved total, without JS
    response = post_order(client, users, account, items(
        ("Cabo", "2", "50,00"), *[(f"Peça {n}", "1", "3") for n in range(5)]), url=url)
    assert response.status_code == 303
    with app.app_context():
        order = db.session.get(ServiceOrder, order_id)
        assert len(order.items) == 6 and order.total == Decimal("115.00")


# --- the default button: Save, not "Add item" ---------------------------------------------------


def first_submit(html: str, form_id: str) -> str:
    form = html.split(f'id="{form_id}"')[1].split("</form>")[0]
    return re.search(r'<button type="submit"[^>]*>', form).group(0)


def test_the_first_submit_button_saves_and_is_out_of_sight_and_of_the_tab_order(
        client, users, make_account):
    """Pressing Enter in an input submits with the form's first submit button (HTML's
    implicit submission): it is a Save, hidden from sight, the tab order and screen
    readers (the visible Save is below)."""
    account = make_account(legal_name="Itens Serviço Ltda.")
    login_as(client, users["service"])
    button = first_submit(client.get(NEW.format(account)).get_data(as_text=True), "order-form")
    assert 'name="save"' in button and "add_line" not in button
    assert 'class="visually-hidden"' in button and 'tabindex="-1"' in button
    assert 'aria-hidden="true"' in button


def test_a_post_by_the_default_button_saves_the_order(app, client, users, make_account):
    account = make_account(legal_name="Itens Serviço Ltda.")
    login_as(client, users["service"])
    response = post_order(client, users, account, items(("Cabo", "2", "5,00")), save="1")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(ServiceOrder)).one().total == Decimal("10.00")
