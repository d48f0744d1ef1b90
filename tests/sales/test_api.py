"""Sales' JSON API (issue 18): products, quotes with lines and their moves, orders and
invoices with installments — the services' rules, the CRM API's conventions (strict
bodies, decimal strings, keyset pages, ETag/If-Match, record scope, error shape)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from erp.clock import local_today
from erp.db import db
from erp.testing.api import error_of


def _count(app, model) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return found


def _quote_body(account, **extra) -> dict:
    return {"account_id": account, "lines": [
        {"description": "Consultoria", "quantity": "2", "unit_price": "150.25"},
        {"description": "Suporte", "quantity": "1.500", "unit_price": "100.00",
         "discount": "10.00"}], **extra}


@pytest.fixture
def today(app, users):
    """The sales rep's today (their time zone's), as the services reckon it."""
    from erp.auth.models import User

    with app.app_context():
        found = local_today(db.session.get(User, users["rep_a"]))
        db.session.remove()
    return found


@pytest.fixture
def own(make_account, make_contact):
    account = make_account("rep_a", legal_name="Cliente Rep A Ltda.")
    contact = make_contact("rep_a", name="Ana Compras", email="ana@cliente.example",
                           account_id=account, role="Compras")
    return {"account": account, "contact": contact}


def test_a_quote_from_draft_to_order_and_invoice_with_installments(app, api_client, own, smtp,
                                                                    today):
    api = api_client("rep_a")
    created = api.post("/sales/quotes", json=_quote_body(own["account"],
                                                         contact_id=own["contact"]))
    assert created.status_code == 201, created.json
    quote = created.json
    assert created.headers["ETag"] == '"1"' == f'"{quote["version"]}"'
    assert quote["status"] == "draft" and quote["total"] == "435.50"  # 300.50 + 135.00
    assert [line["total"] for line in quote["lines"]] == ["300.50", "135.00"]
    assert quote["valid_until"] == (today + timedelta(days=30)).isoformat()

    changed = api.patch(f"/sales/quotes/{quote['id']}", json={"notes": "Prazo 30 dias"},
                        headers={"If-Match": created.headers["ETag"]})
    assert changed.status_code == 200, changed.json
    assert changed.json["notes"] == "Prazo 30 dias" and changed.json["total"] == "435.50"
    assert changed.json["version"] == 2

    sent = api.post(f"/sales/quotes/{quote['id']}/send", json={"message": "Segue."})
    assert sent.status_code == 200, sent.json
    assert sent.json["status"] == "sent" and sent.json["contact_id"] == own["contact"]
    # Sent: no longer editable (the service's rule), nothing written.
    refused = error_of(api.patch(f"/sales/quotes/{quote['id']}", json={"notes": "x"}), 422,
                       "validation_error")
    assert "__all__" in refused["fields"]

    accepted = api.post(f"/sales/quotes/{quote['id']}/accept")
    assert accepted.status_code == 201, accepted.json
    order = accepted.json
    assert order["quote_id"] == quote["id"] and order["status"] == "confirmed"
    assert order["total"] == "435.50" and len(order["lines"]) == 2
    assert api.get(f"/sales/quotes/{quote['id']}").json["status"] == "accepted"

    invoiced = api.post(f"/sales/orders/{order['id']}/invoice", json={
        "installments": 3, "first_due_date": (today + timedelta(days=10)).isoformat()})
    assert invoiced.status_code == 201, invoiced.json
    invoice = invoiced.json
    assert [part["amount"] for part in invoice["installments"]] == ["145.16", "145.16",
                                                                    "145.18"]
    assert [part["position"] for part in invoice["installments"]] == [1, 2, 3]
    error_of(api.post(f"/sales/orders/{order['id']}/cancel"), 422, "validation_error")
    cancelled = api.post(f"/sales/invoices/{invoice['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert api.post(f"/sales/orders/{order['id']}/cancel").json["status"] == "cancelled"


def test_orders_created_delivered_and_refusals(app, api_client, own, today):
    api = api_client("rep_a")
    created = api.post("/sales/orders", json={"account_id": own["account"], "lines": [
        {"description": "Cabo", "quantity": "3", "unit_price": "10.10"}]})
    assert created.status_code == 201, created.json
    order = created.json
    assert order["total"] == "30.30" and order["order_date"] == today.isoformat()
    delivered = api.post(f"/sales/orders/{order['id']}/deliver")
    assert delivered.status_code == 200 and delivered.json["status"] == "delivered"
    error_of(api.post(f"/sales/orders/{order['id']}/deliver"), 422, "validation_error")
    quote = api.post("/sales/quotes", json=_quote_body(own["account"])).json
    refused = api.post(f"/sales/quotes/{quote['id']}/refuse")
    assert refused.status_code == 200 and refused.json["status"] == "refused"
    error_of(api.post(f"/sales/quotes/{quote['id']}/accept"), 422, "validation_error")


def test_bad_input_is_a_422_with_field_errors_and_nothing_written(app, api_client, own):
    from modules.sales.models import Order, Quote

    api = api_client("rep_a")
    before = _count(app, Quote), _count(app, Order)
    cases = [
        ({**_quote_body(own["account"]), "colour": "blue"}, "colour"),  # unknown field
        (_quote_body(own["account"], valid_until="2020-01-01"), "valid_until"),  # past
        ({"account_id": own["account"], "lines": []}, "lines"),  # no line
        ({"account_id": own["account"], "lines": [{"description": "X",
                                                   "unit_price": 10.5}]}, "lines"),  # float
        ({"account_id": own["account"], "lines": [{"description": "X",
                                                   "quantity": "-1"}]}, "lines"),
        (_quote_body(own["account"], contact_id=999999), "contact_id"),
    ]
    for body, field in cases:
        error = error_of(api.post("/sales/quotes", json=body), 422, "validation_error")
        assert field in error["fields"], (body, error)
    error = error_of(api.post("/sales/orders", json={"account_id": own["account"],
                                                     "lines": [{"quantity": "1"}]}),
                     422, "validation_error")
    assert "lines" in error["fields"]
    assert (_count(app, Quote), _count(app, Order)) == before


def test_a_rep_cannot_reach_another_reps_documents(app, api_client, make_account, own, today):
    theirs = make_account("rep_c", legal_name="Conta de Outro Ltda.")
    other = api_client("rep_c")
    quote = other.post("/sales/quotes", json=_quote_body(theirs)).json
    order = other.post("/sales/orders", json={"account_id": theirs, "lines": [
        {"description": "Peça", "unit_price": "5.00"}]}).json
    invoice = other.post(f"/sales/orders/{order['id']}/invoice", json={
        "first_due_date": today.isoformat()}).json
    api = api_client("rep_a")
    for path in (f"/sales/quotes/{quote['id']}", f"/sales/orders/{order['id']}",
                 f"/sales/invoices/{invoice['id']}"):
        error_of(api.get(path), 404, "not_found")
    for path in (f"/sales/quotes/{quote['id']}/refuse", f"/sales/orders/{order['id']}/cancel",
                 f"/sales/invoices/{invoice['id']}/cancel"):
        error_of(api.post(path), 404, "not_found")
    error_of(api.patch(f"/sales/quotes/{quote['id']}", json={"notes": "x"}), 404)
    assert api.items("/sales/quotes") == []
    assert api.items("/sales/invoices", account_id=theirs) == []
    # Naming their account in a body: a 422 on the field, nothing made.
    error = error_of(api.post("/sales/quotes", json=_quote_body(theirs)), 422)
    assert "account_id" in error["fields"]
    # Their manager (another team) sees nothing either; an admin sees it.
    assert api_client("manager").items("/sales/quotes", account_id=theirs) == []
    assert [q["id"] for q in api_client("admin").items("/sales/quotes")] == [quote["id"]]


def test_permissions(app, api_client, own):
    nobody, service = api_client("nobody"), api_client("service")
    for api in (nobody, service):
        error_of(api.get("/sales/quotes"), 403, "forbidden")
        error_of(api.post("/sales/orders", json={"account_id": own["account"],
                                                 "lines": []}), 403)
    # The catalog: every rep reads it, only managers change it.
    rep = api_client("rep_a")
    assert rep.get("/sales/products").status_code == 200
    error_of(rep.post("/sales/products", json={"code": "X1", "name": "X"}), 403)
    manager = api_client("manager")
    created = manager.post("/sales/products", json={"code": "X1", "name": "Cabo",
                                                    "price": "12.30", "kind": "product"})
    assert created.status_code == 201, created.json
    assert created.json["price"] == "12.30" and created.json["active"] is True
    error_of(rep.patch(f"/sales/products/{created.json['id']}", json={"name": "Y"}), 403)
    duplicate = error_of(manager.post("/sales/products", json={"code": "X1", "name": "Z"}),
                         422)
    assert "code" in duplicate["fields"]


def test_a_stale_etag_is_412_and_changes_nothing(app, api_client, own, users):
    manager = api_client("manager")
    product = manager.post("/sales/products", json={"code": "P-1", "name": "Cabo"})
    etag = product.headers["ETag"]
    url = f"/sales/products/{product.json['id']}"
    assert manager.patch(url, json={"price": "9.90"}, headers={"If-Match": etag}).json[
        "price"] == "9.90"
    stale = error_of(manager.patch(url, json={"price": "1.00"}, headers={"If-Match": etag}),
                     412, "stale_version")
    assert stale["current_version"] == 2
    error_of(manager.patch(url, json={"price": "1.00", "version": 1}), 409, "stale_version")
    assert manager.get(url).json["price"] == "9.90"

    api = api_client("rep_a")
    quote = api.post("/sales/quotes", json=_quote_body(own["account"]))
    api.patch(f"/sales/quotes/{quote.json['id']}", json={"notes": "Nova"})
    for method, path in (("PATCH", ""), ("POST", "/send"), ("POST", "/refuse")):
        response = api.request(method, f"/sales/quotes/{quote.json['id']}{path}", json={},
                               headers={"If-Match": quote.headers["ETag"]})
        error_of(response, 412, "stale_version")
    assert api.get(f"/sales/quotes/{quote.json['id']}").json["status"] == "draft"


def test_pages_follow_ids_and_stay_stable(app, api_client, own):
    api = api_client("rep_a")
    made = [api.post("/sales/orders", json={"account_id": own["account"], "lines": [
        {"description": f"Item {n}", "unit_price": "1.00"}]}).json["id"] for n in range(5)]
    first = api.get("/sales/orders", query_string={"limit": 2})
    assert [o["id"] for o in first.json["items"]] == made[:2]
    cursor = first.json["next_cursor"]
    # A new order meanwhile goes at the end: the next pages neither repeat nor skip.
    made.append(api.post("/sales/orders", json={"account_id": own["account"], "lines": [
        {"description": "Depois", "unit_price": "1.00"}]}).json["id"])
    rest = api.items("/sales/orders", limit=2, after=cursor)
    assert [o["id"] for o in rest] == made[2:]
    assert [o["id"] for o in api.items("/sales/orders", limit=4)] == made
    error_of(api.get("/sales/orders", query_string={"limit": 0}), 422)
    error_of(api.get("/sales/orders", query_string={"colour": "x"}), 422)
    assert api.items("/sales/orders", status="cancelled") == []


def test_expired_status_filter(app, api_client, own, today):
    from modules.sales.models import Quote

    api = api_client("rep_a")
    quote = api.post("/sales/quotes", json=_quote_body(own["account"],
                                                       contact_id=own["contact"])).json
    api.post(f"/sales/quotes/{quote['id']}/send", json={})
    with app.app_context():
        db.session.get(Quote, quote["id"]).valid_until = today - timedelta(days=1)
        db.session.commit()
        db.session.remove()
    assert [q["id"] for q in api.items("/sales/quotes", status="expired")] == [quote["id"]]
    assert api.items("/sales/quotes", status="sent") == []
    assert api.get(f"/sales/quotes/{quote['id']}").json["status"] == "expired"


def test_a_page_costs_the_same_statements_whatever_its_size(app, api_client, make_account):
    """Lines and installments come per page (one query each), not per row."""
    from erp.testing.queries import count_queries

    api = api_client("rep_a")
    for n in range(6):
        account = make_account("rep_a", legal_name=f"Cliente {n} Comércio Ltda.")
        order = api.post("/sales/orders", json={"account_id": account, "lines": [
            {"description": "A", "unit_price": "1.00"}, {"description": "B",
                                                         "unit_price": "2.00"}]}).json
        api.post(f"/sales/orders/{order['id']}/invoice", json={
            "installments": 2, "first_due_date": "2099-12-31"})
        api.post("/sales/quotes", json=_quote_body(account))
    api = api_client("manager")  # a token not used yet: its first use is written down
    api.get("/sales/products")
    counts = {}
    for path in ("/sales/quotes", "/sales/orders", "/sales/invoices", "/sales/products"):
        for limit in (1, 6):
            with count_queries(app) as statements:
                response = api.get(path, query_string={"limit": limit})
                assert response.status_code == 200
                assert len(response.json["items"]) == (limit if path != "/sales/products"
                                                       else 0)
            counts[path, limit] = len(statements)
        assert counts[path, 1] == counts[path, 6], (path, counts)
