"""The quote (and order) form's lines on the server (issue 17): any number of rows up to a
clear maximum, per-line errors with nothing written, the catalog selects and the picker's
JSON endpoint (login, permission, the active catalog only, search, pages), "Add item"
without JavaScript; and the deal form's items offered the same picker."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erp.db import db
from modules.sales import services
from modules.sales.forms.lines import MAX_ROWS
from modules.sales.models import Order, Product, Quote, QuoteLine
from tests.conftest import csrf_token, login_as
from tests.sales.support import TODAY

NEW = "/sales/quotes/new?account_id={}"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def rows(*lines, start: int = 0, step: int = 1) -> dict:
    """Form fields of lines (description, quantity, price[, discount[, product]]), at
    indices start, start+step, ... (the script leaves gaps where rows were removed)."""
    data = {}
    for n, values in enumerate(lines):
        index = start + n * step
        for name, value in zip(("description", "quantity", "unit_price", "discount",
                                "product_id"), values, strict=False):
            data[f"lines-{index}-{name}"] = value
    return data


def post_quote(client, account_id, lines: dict, **extra):
    url = NEW.format(account_id)
    return client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "valid_until": (TODAY + timedelta(days=30)).isoformat(),
                                  **lines, **extra})


def row_names(html: str) -> list[str]:
    return re.findall(r'name="(lines-\d+)-description"', html)


def make_products(app, n: int, *, prefix: str = "P", active: bool = True) -> list[int]:
    with app.app_context():
        products = [Product(code=f"{prefix}-{i:04d}", name=f"Produto {prefix} {i}",
                            kind="product", price=Decimal("10.50") + i, active=active)
                    for i in range(n)]
        db.session.add_all(products)
        db.session.commit()
        ids = [p.id for p in products]
        db.session.remove()
    return ids


# --- the form's rows -----------------------------------------------------------------------


def test_a_new_quote_form_has_one_row_an_add_button_and_the_catalog_picker(
        app, client, users, account):
    """No longer exactly five rows: one, and "Add item" (which posts back without
    JavaScript); each catalog select is a searchable picker with the search's address."""
    make_products(app, 2)
    login_as(client, users["rep_a"])
    html = client.get(NEW.format(account)).get_data(as_text=True)
    assert row_names(html) == ["lines-0"]
    assert 'data-line-items="lines"' in html and "line_items.js" in html
    assert re.search(r'<button type="submit"[^>]*name="add_line"[^>]*data-line-add="lines-table"',
                     html)
    select = re.search(r'<select[^>]*name="lines-0-product_id"[^>]*>', html).group(0)
    assert 'data-picker-url="/sales/products/pick"' in select and "data-line-product" in select
    # The small catalog is listed too (what works without JavaScript), with what a pick fills.
    assert re.search(r'<option data-name="Produto P 1" data-price_input="11.50" value="\d+">'
                     r"P-0001 — Produto P 1</option>", html)


def test_saving_many_lines_keeps_them_all_in_order(app, client, users, account):
    """Twelve lines, posted with gaps where rows were removed in the page: all saved, in
    the order of the page, with the total."""
    login_as(client, users["rep_a"])
    lines = [(f"Item {n}", str(n), "10,00", "") for n in range(1, 13)]
    response = post_quote(client, account, rows(*lines, start=0, step=3))
    assert response.status_code == 303
    with app.app_context():
        quote = db.session.scalars(select(Quote)).one()
        assert [(li.position, li.description, li.quantity) for li in quote.lines] == [
            (n - 1, f"Item {n}", Decimal(n)) for n in range(1, 13)]
        assert quote.total == Decimal("780.00")  # 10 × (1 + … + 12)


def test_more_rows_than_the_maximum_is_one_clear_error_and_nothing_written(
        app, client, users, account):
    login_as(client, users["rep_a"])
    lines = [(f"Item {n}", "1", "1,00", "") for n in range(MAX_ROWS + 1)]
    response = post_quote(client, account, rows(*lines))
    assert response.status_code == 422
    assert f"At most {MAX_ROWS} lines." in response.get_data(as_text=True)
    assert count(app, Quote) == 0 and count(app, QuoteLine) == 0
    # The maximum itself is fine.
    response = post_quote(client, account, rows(*lines[:MAX_ROWS]))
    assert response.status_code == 303
    with app.app_context():
        assert len(db.session.scalars(select(Quote)).one().lines) == MAX_ROWS


def test_bad_lines_say_which_lines_and_why_and_nothing_is_written(app, client, users,
                                                                  account):
    login_as(client, users["rep_a"])
    response = post_quote(client, account, rows(
        ("Consultoria", "2", "100,00", ""),
        ("Licença", "dois", "50,00", ""),
        ("Suporte", "1", "", ""),  # no price and no product
        ("Treinamento", "1", "10,00", "120")))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Check lines 2, 3, 4." in html
    row = {n: html.split(f'name="lines-{n}-description"')[1].split("</tr>")[0]
           for n in range(4)}
    assert "is-invalid" not in row[0]
    assert "Use a quantity greater than zero." in row[1]
    assert "Use a price such as 1.234,56." in row[2]
    assert "Use a discount from 0 to 100 (%)." in row[3]
    assert "Licença" in html and 'value="dois"' in html  # what was typed is kept
    assert count(app, Quote) == 0 and count(app, QuoteLine) == 0


def test_add_item_without_javascript_shows_the_form_again_with_one_more_row(
        app, client, users, account):
    login_as(client, users["rep_a"])
    response = post_quote(client, account, rows(("Consultoria", "2", "100,00", "")),
                          add_line="1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert row_names(html) == ["lines-0", "lines-1"]
    assert 'value="Consultoria"' in html and "is-invalid" not in html
    assert count(app, Quote) == 0


def test_editing_shows_the_lines_and_one_blank_row_keeping_an_inactive_product(
        app, client, users, account):
    [kept] = make_products(app, 1, prefix="OLD")
    login_as(client, users["rep_a"])
    response = post_quote(client, account, rows(("", "3", "", "", str(kept)),
                                                ("Frete", "1", "1.234,50", "")))
    assert response.status_code == 303
    with app.app_context():
        quote = db.session.scalars(select(Quote)).one()
        db.session.get(Product, kept).active = False  # retired from the catalog since
        db.session.commit()
        quote_id = quote.id
    html = client.get(f"/sales/quotes/{quote_id}/edit").get_data(as_text=True)
    assert row_names(html) == ["lines-0", "lines-1", "lines-2"]
    assert re.search(rf'<option[^>]*selected[^>]*value="{kept}"|<option[^>]*value="{kept}"'
                     r"[^>]*selected", html)
    assert 'name="lines-1-unit_price" type="text" value="1,234.50"' in html  # English
    assert re.search(r'id="lines-sum"[^>]*>R\$1,266.00<', html)  # 3 × 10.50 + 1,234.50


def test_a_large_catalog_is_searched_not_listed_in_every_row(app, client, users, account,
                                                            monkeypatch):
    """Past INLINE_PRODUCTS_MAX active products, a row's select lists only its own
    product: the page does not grow with the catalog."""
    from modules.sales.services import catalog

    monkeypatch.setattr(catalog, "INLINE_PRODUCTS_MAX", 5)
    ids = make_products(app, 6)
    login_as(client, users["rep_a"])
    html = client.get(NEW.format(account)).get_data(as_text=True)
    assert "P-0000" not in html
    response = post_quote(client, account, rows(("", "1", "", "", str(ids[4]))), add_line="1")
    html = response.get_data(as_text=True)
    assert html.count("P-0004 — Produto P 4") == 2  # in both rows' selects, alone
    assert "P-0003" not in html


def test_the_order_form_has_the_same_lines(app, client, users, account):
    login_as(client, users["rep_a"])
    url = f"/sales/orders/new?account_id={account}"
    html = client.get(url).get_data(as_text=True)
    assert row_names(html) == ["lines-0"] and 'data-line-items="lines"' in html
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "order_date": TODAY.isoformat(),
                                      **rows(*[(f"Item {n}", "1", "5", "") for n in range(7)],
                                             step=2)})
    assert response.status_code == 303
    with app.app_context():
        assert len(db.session.scalars(select(Order)).one().lines) == 7


# --- the picker's endpoint -------------------------------------------------------------------


PICK = "/sales/products/pick"


def test_the_picker_needs_a_login_and_sales_read(app, client, users):
    make_products(app, 1)
    response = client.get(PICK)
    assert response.status_code == 302 and "/login" in response.location
    login_as(client, users["service"])  # no sales.read
    assert client.get(PICK).status_code == 403
    login_as(client, users["nobody"])
    assert client.get(PICK).status_code == 403
    for name in ("rep_a", "manager", "finance"):
        login_as(client, users[name])
        assert client.get(PICK).status_code == 200, name


def test_the_picker_searches_the_active_catalog_by_code_or_name(app, client, users):
    with app.app_context():
        db.session.add_all([
            Product(code="SRV-1", name="Implantação", kind="service", price=Decimal("1500")),
            Product(code="LIC-9", name="Licença anual", kind="product",
                    price=Decimal("1234.5")),
            Product(code="LIC-1", name="Licença antiga", kind="product", price=Decimal("9"),
                    active=False),
            Product(code="X_1", name="100% algodão", kind="product", price=Decimal("1")),
        ])
        db.session.commit()
    login_as(client, users["rep_a"])
    body = client.get(PICK, query_string={"q": "lic"}).get_json()
    assert body == {"more": False, "results": [{
        "id": body["results"][0]["id"], "code": "LIC-9", "name": "Licença anual",
        "kind": "product", "kind_label": "Product", "label": "LIC-9 — Licença anual",
        "price": "1234.50", "price_text": "R$1,234.50", "price_input": "1,234.50"}]}
    assert [r["code"] for r in client.get(PICK, query_string={"q": "implant"})
            .get_json()["results"]] == ["SRV-1"]
    # A typed % or _ is itself, not a wildcard.
    assert [r["code"] for r in client.get(PICK, query_string={"q": "100%"})
            .get_json()["results"]] == ["X_1"]
    assert client.get(PICK, query_string={"q": "S_V"}).get_json()["results"] == []
    # Without a query: the active catalog by code.
    assert [r["code"] for r in client.get(PICK).get_json()["results"]] == [
        "LIC-9", "SRV-1", "X_1"]


def test_the_picker_pages_and_limits(app, client, users):
    make_products(app, 60)
    login_as(client, users["rep_a"])
    first = client.get(PICK, query_string={"limit": "25"}).get_json()
    assert len(first["results"]) == 25 and first["more"] is True
    second = client.get(PICK, query_string={"limit": "25", "page": "2"}).get_json()
    assert [r["code"] for r in second["results"]][0] == "P-0025"
    third = client.get(PICK, query_string={"limit": "25", "page": "3"}).get_json()
    assert len(third["results"]) == 10 and third["more"] is False
    default = client.get(PICK).get_json()
    assert len(default["results"]) == services.PICK_LIMIT
    # A limit past the maximum (or not a number) is the default, never the whole catalog.
    for limit in ("5000", "-1", "abc"):
        assert len(client.get(PICK, query_string={"limit": limit}).get_json()["results"]) \
            == services.PICK_LIMIT, limit


@pytest.mark.parametrize("q", ["x" * 5000, "\u00b2", "'; drop table sales_product; --"])
def test_the_picker_takes_any_query(app, client, users, q):
    login_as(client, users["rep_a"])
    response = client.get(PICK, query_string={"q": q})
    assert response.status_code == 200 and response.get_json()["results"] == []


def test_the_picker_costs_the_same_queries_whatever_the_page_size(app, client, users):
    from erp.testing import queries_for

    make_products(app, 60)
    login_as(client, users["rep_a"])
    small = queries_for(app, client, f"{PICK}?limit=2")
    large = queries_for(app, client, f"{PICK}?limit=50")
    assert small == large


# --- the deal form -----------------------------------------------------------------------------


def test_the_deal_form_offers_the_catalog_picker_and_searchable_tags(app, client, users,
                                                                     account, pipeline):
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/opportunities/new?account_id={account}").get_data(as_text=True)
    pickers = re.findall(r'<select[^>]*data-picker-url="/sales/products/pick"[^>]*>', html)
    assert len(pickers) == 3  # one per item row
    assert all("name=" not in picker for picker in pickers)  # free text is what is saved
    assert 'data-line-items="items"' in html and "line_items.js" in html
    tags = re.search(r'<select[^>]*name="tag_ids"[^>]*>', html).group(0)
    assert "multiple" in tags and "data-picker" in tags
    assert 'aria-describedby="tag_ids-hint"' in tags
    assert 'data-picker-hint="tag_ids"' in html
    watchers = re.search(r'<select[^>]*name="watcher_ids"[^>]*>', html).group(0)
    assert "data-picker" in watchers
    assert 'aria-describedby="watcher_ids-help watcher_ids-hint"' in watchers
