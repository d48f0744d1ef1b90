"""Service's JSON API (issue 18): service orders with items and hours, their status moves
and invoices with installments — the services' rules under CRM's API conventions (strict
bodies, decimal strings, keyset pages, ETag/If-Match, record scope, error shape)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from erp.clock import local_today
from erp.db import db
from erp.testing.api import error_of


@pytest.fixture
def today(app, users):
    from erp.auth.models import User

    with app.app_context():
        found = local_today(db.session.get(User, users["service"]))
        db.session.remove()
    return found


def _body(account, users, **extra) -> dict:
    return {"account_id": account, "description": "Instalar o servidor",
            "technician_id": users["service"], "hours": "2.500", "hourly_rate": "80.00",
            "items": [{"description": "Cabo", "quantity": "1.500", "unit_price": "10.00"}],
            **extra}


def test_an_order_from_open_to_invoiced(app, api_client, users, make_account, today):
    account = make_account("rep_a", legal_name="Cliente Serviço Ltda.")
    api = api_client("service")
    created = api.post("/service/orders", json=_body(account, users))
    assert created.status_code == 201, created.json
    order = created.json
    assert created.headers["ETag"] == '"1"'
    assert (order["items_total"], order["hours_total"], order["total"]) == (
        "15.00", "200.00", "215.00")
    assert order["status"] == "open" and order["hours"] == "2.500"

    url = f"/service/orders/{order['id']}"
    changed = api.patch(url, json={"hours": "3"}, headers={"If-Match": created.headers["ETag"]})
    assert changed.status_code == 200, changed.json
    assert changed.json["total"] == "255.00" and len(changed.json["items"]) == 1
    assert changed.json["items"][0]["quantity"] == "1.500"  # kept, not read as 1500

    error_of(api.post(f"{url}/invoice", json={"due_date": today.isoformat()}), 422)
    error = error_of(api.post(f"{url}/status", json={"status": "done"}), 422)
    assert "status" in error["fields"]  # open -> done skips a step
    for status in ("in_progress", "done"):
        moved = api.post(f"{url}/status", json={"status": status})
        assert moved.status_code == 200 and moved.json["status"] == status
    error_of(api.patch(url, json={"hours": "1"}), 422)  # a done order is final

    invoiced = api.post(f"{url}/invoice", json={
        "installments": 2, "due_date": (today + timedelta(days=30)).isoformat()})
    assert invoiced.status_code == 201, invoiced.json
    invoice = invoiced.json
    assert [i["amount"] for i in invoice["installments"]] == ["127.50", "127.50"]
    assert invoice["amount"] == "255.00" and invoice["status"] == "issued"
    assert api.get(f"/service/invoices/{invoice['id']}").json["display_number"].startswith("NFS")
    cancelled = api.post(f"/service/invoices/{invoice['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    error_of(api.post(f"/service/invoices/{invoice['id']}/cancel"), 422)


def test_bad_input_is_a_422_with_field_errors_and_nothing_written(app, api_client, users,
                                                                  make_account):
    from modules.service.models import ServiceOrder

    account = make_account("rep_a")
    api = api_client("service")
    cases = [(_body(account, users, colour="x"), "colour"),
             (_body(account, users, hours=2.5), "hours"),
             (_body(account, users, technician_id=999999), "technician_id"),
             (_body(account, users, description=""), "description"),
             (_body(account, users, items=[{"quantity": "1"}]), "items")]
    for body, field in cases:
        error = error_of(api.post("/service/orders", json=body), 422, "validation_error")
        assert field in error["fields"], (body, error)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServiceOrder)) == 0
        db.session.remove()


def test_scope_and_permissions(app, api_client, users, make_account, make_order):
    mine, theirs = make_account("rep_a"), make_account("rep_c", legal_name="Outra Ltda.")
    order_mine, order_theirs = make_order(mine), make_order(theirs)
    manager = api_client("manager")  # service.read, team scope
    assert [o["id"] for o in manager.items("/service/orders")] == [order_mine]
    error_of(manager.get(f"/service/orders/{order_theirs}"), 404, "not_found")
    error_of(manager.post(f"/service/orders/{order_mine}/status",
                          json={"status": "cancelled"}), 403, "forbidden")
    for name in ("rep_a", "nobody"):
        error_of(api_client(name).get("/service/orders"), 403)
    admin = api_client("admin")
    assert [o["id"] for o in admin.items("/service/orders")] == [order_mine, order_theirs]


def test_a_stale_etag_is_412_and_changes_nothing(app, api_client, make_account, make_order):
    order = make_order(make_account("rep_a"))
    api = api_client("service")
    url = f"/service/orders/{order}"
    etag = api.get(url).headers["ETag"]
    assert api.patch(url, json={"description": "Primeira"},
                     headers={"If-Match": etag}).status_code == 200
    error_of(api.patch(url, json={"description": "Segunda"}, headers={"If-Match": etag}),
             412, "stale_version")
    error_of(api.post(f"{url}/status", json={"status": "cancelled"},
                      headers={"If-Match": etag}), 412, "stale_version")
    error_of(api.patch(url, json={"description": "Terceira", "version": 1}), 409,
             "stale_version")
    read = api.get(url).json
    assert read["description"] == "Primeira" and read["status"] == "open"


def test_pages_follow_ids_and_stay_stable(app, api_client, make_account, make_order):
    account = make_account("rep_a")
    made = [make_order(account) for _ in range(5)]
    api = api_client("service")
    first = api.get("/service/orders", query_string={"limit": 3})
    assert [o["id"] for o in first.json["items"]] == made[:3]
    made.append(make_order(account))
    assert [o["id"] for o in api.items("/service/orders", limit=3,
                                       after=first.json["next_cursor"])] == made[3:]
    assert api.items("/service/orders", status="done") == []
    error_of(api.get("/service/orders", query_string={"after": "x"}), 422)


def test_a_page_costs_the_same_statements_whatever_its_size(app, api_client, make_account,
                                                            make_order):
    from erp.testing.queries import count_queries

    for n in range(5):
        make_order(make_account("rep_a", legal_name=f"Cliente {n} Serviços Ltda."))
    api = api_client("service")
    api.get("/service/orders")  # the token's first use is written down: not counted
    counts = []
    for limit in (1, 5):
        with count_queries(app) as statements:
            assert len(api.get("/service/orders", query_string={"limit": limit}).json[
                "items"]) == limit
        counts.append(len(statements))
    assert counts[0] == counts[1]
