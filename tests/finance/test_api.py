"""Finance's JSON API (issue 18): receivables (list with the page's filters, read, enter
by hand, cancel), payments (list, record, read) and the aging report's figures — the
services' rules and the report's query under CRM's API conventions."""

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
        found = local_today(db.session.get(User, users["finance"]))
        db.session.remove()
    return found


def test_receivables_entered_paid_and_listed(app, api_client, make_account, today):
    account = make_account("rep_a", legal_name="Devedora Ltda.")
    api = api_client("finance")
    created = api.post("/finance/receivables", json={
        "account_id": account, "document": "Contrato 9", "amount": "100.00",
        "installments": 3, "due_date": (today + timedelta(days=5)).isoformat()})
    assert created.status_code == 201, created.json
    parts = created.json["items"]
    assert [r["amount"] for r in parts] == ["33.33", "33.33", "33.34"]
    assert [r["document"] for r in parts] == ["Contrato 9 1/3", "Contrato 9 2/3",
                                              "Contrato 9 3/3"]
    first = parts[0]["id"]
    read = api.get(f"/finance/receivables/{first}")
    assert read.headers["ETag"] == '"1"' and read.json["status"] == "open"

    paid = api.post("/finance/payments", json={"receivable_id": first, "amount": "10.00",
                                               "method": "pix"})
    assert paid.status_code == 201, paid.json
    assert paid.json["date"] == today.isoformat() and paid.json["account_id"] == account
    receivable = api.get(f"/finance/receivables/{first}").json
    assert (receivable["paid"], receivable["outstanding"], receivable["status"]) == (
        "10.00", "23.33", "partial")
    assert [p["id"] for p in receivable["payments"]] == [paid.json["id"]]
    assert api.get(f"/finance/payments/{paid.json['id']}").json["amount"] == "10.00"
    assert [p["id"] for p in api.items("/finance/payments", receivable_id=first)] == [
        paid.json["id"]]

    assert [r["id"] for r in api.items("/finance/receivables", status="partial")] == [first]
    assert len(api.items("/finance/receivables", status="unpaid")) == 3
    assert [r["id"] for r in api.items("/finance/receivables", q="9 2/3")] == [parts[1]["id"]]
    assert len(api.items("/finance/receivables", account="devedora")) == 3

    # With a payment it cannot be cancelled; without, it can, once.
    error_of(api.post(f"/finance/receivables/{first}/cancel"), 422, "validation_error")
    cancelled = api.post(f"/finance/receivables/{parts[2]['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["version"] == 2
    error_of(api.post(f"/finance/receivables/{parts[2]['id']}/cancel"), 422)


def test_bad_payments_are_422_and_nothing_is_written(app, api_client, make_account,
                                                     make_receivables, today):
    from modules.finance.models import Payment

    (receivable,) = make_receivables(make_account("rep_a"), amount="50,00")
    api = api_client("finance")
    cases = [({"receivable_id": receivable, "amount": "50.01", "method": "pix"}, "amount"),
             ({"receivable_id": receivable, "amount": 10, "method": "pix"}, "amount"),
             ({"receivable_id": receivable, "amount": "0.00", "method": "pix"}, "amount"),
             ({"receivable_id": receivable, "amount": "1.00", "method": "gold"}, "method"),
             ({"receivable_id": receivable, "amount": "1.00", "method": "pix",
               "date": (today + timedelta(days=1)).isoformat()}, "date"),
             ({"receivable_id": 999999, "amount": "1.00", "method": "pix"}, "receivable_id"),
             ({"receivable_id": receivable, "amount": "1.00", "method": "pix", "x": 1}, "x")]
    for body, field in cases:
        error = error_of(api.post("/finance/payments", json=body), 422, "validation_error")
        assert field in error["fields"], (body, error)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
        db.session.remove()


def test_scope_and_permissions(app, api_client, make_account, make_receivables, pay):
    (mine,) = make_receivables(make_account("rep_a"))
    (theirs,) = make_receivables(make_account("rep_c", legal_name="Outra Ltda."))
    payment = pay(theirs, "1,00")
    manager = api_client("manager")  # finance.read, team scope
    assert [r["id"] for r in manager.items("/finance/receivables")] == [mine]
    error_of(manager.get(f"/finance/receivables/{theirs}"), 404, "not_found")
    error_of(manager.get(f"/finance/payments/{payment}"), 404, "not_found")
    assert manager.items("/finance/payments") == []
    assert manager.get("/finance/aging").json["totals"]["accounts"] == 0
    error_of(manager.post("/finance/payments", json={"receivable_id": mine, "amount": "1.00",
                                                     "method": "pix"}), 403, "forbidden")
    for name in ("rep_a", "service", "nobody"):
        error_of(api_client(name).get("/finance/receivables"), 403)
    # A clerk (every account) naming a receivable the manager cannot see: fine for them.
    assert len(api_client("finance").items("/finance/receivables")) == 2


def test_a_stale_etag_refuses_the_cancel(app, api_client, make_account, make_receivables):
    (receivable,) = make_receivables(make_account("rep_a"))
    api = api_client("finance")
    error_of(api.post(f"/finance/receivables/{receivable}/cancel",
                      headers={"If-Match": '"7"'}), 412, "stale_version")
    assert api.get(f"/finance/receivables/{receivable}").json["status"] != "cancelled"
    assert api.post(f"/finance/receivables/{receivable}/cancel",
                    headers={"If-Match": '"1"'}).status_code == 200


def test_the_aging_figures_are_the_reports(app, api_client, make_account, make_receivables,
                                           pay, today, client_as):
    big, small = make_account("rep_a", legal_name="Grande Ltda."), make_account("rep_b")
    make_receivables(big, amount="1000,00", due_date=today - timedelta(days=45),
                     issue_date=today - timedelta(days=60), today=today)
    (due,) = make_receivables(small, amount="100,00", due_date=today - timedelta(days=10),
                              issue_date=today - timedelta(days=20), today=today)
    pay(due, "40,00", on=today, today=today)
    make_receivables(small, amount="500,00", due_date=today + timedelta(days=10), today=today)
    api = api_client("finance")
    report = api.get("/finance/aging")
    assert report.status_code == 200, report.json
    body = report.json
    assert body["as_of"] == today.isoformat()
    assert [(r["account_id"], r["d31_60"], r["d0_30"], r["overdue"]) for r in body["rows"]] \
        == [(big, "1000.00", "0.00", "1000.00"), (small, "0.00", "60.00", "60.00")]
    assert body["totals"] == {"d0_30": "60.00", "d31_60": "1000.00", "d61_90": "0.00",
                              "d90_plus": "0.00", "overdue": "1060.00", "accounts": 2}
    assert body["next_page"] is None
    paged = api.get("/finance/aging", query_string={"limit": 1}).json
    assert [r["account_id"] for r in paged["rows"]] == [big] and paged["next_page"] == 2
    assert paged["totals"]["accounts"] == 2
    second = api.get("/finance/aging", query_string={"limit": 1, "page": 2}).json
    assert [r["account_id"] for r in second["rows"]] == [small]
    # The report page shows the same figures (its CSV: the same query).
    csv = client_as("finance").get("/finance/reports/aging", query_string={
        "as_of": today.isoformat(), "format": "csv"}).get_data(as_text=True)
    assert "1060" in csv.replace(".", "").replace(",", "")
    error_of(api.get("/finance/aging", query_string={"as_of": "ontem"}), 422)


def test_a_page_costs_the_same_statements_whatever_its_size(app, api_client, make_account,
                                                            make_receivables, pay):
    from erp.testing.queries import count_queries

    for n in range(5):
        (receivable,) = make_receivables(make_account(
            "rep_a", legal_name=f"Cliente {n} Finanças Ltda."))
        pay(receivable, "1,00")
    api = api_client("manager")
    api.get("/finance/payments")  # the token's first use is written down: not counted
    counts = {}
    for path in ("/finance/receivables", "/finance/payments"):
        for limit in (1, 5):
            with count_queries(app) as statements:
                assert len(api.get(path, query_string={"limit": limit}).json[
                    "items"]) == limit
            counts[path, limit] = len(statements)
        assert counts[path, 1] == counts[path, 5], counts
