"""Finance in the global search, in the admin, and its demo data."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from erp.auth.models import User
from erp.db import db
from modules.finance.models import Payment, Receivable
from tests.conftest import login_as, make_user


def test_global_search_finds_receivables_in_scope(client, users, make_account,
                                                  make_receivables):
    mine = make_account(owner="rep_a", legal_name="Minha Ltda.")
    theirs = make_account(owner="rep_c", legal_name="Deles Ltda.")
    make_receivables(mine, document="Boleto XPTO-1")
    make_receivables(theirs, document="Boleto XPTO-2")
    login_as(client, users["manager"])
    html = client.get("/search?q=xpto").get_data(as_text=True)
    assert "Boleto XPTO-1" in html and "Boleto XPTO-2" not in html
    login_as(client, users["rep_a"])  # no finance.read: no receivables in the results
    assert "Boleto XPTO-1" not in client.get("/search?q=xpto").get_data(as_text=True)


def test_admin_lists_receivables_and_payments(client, users, make_account, make_receivables,
                                              pay):
    (rid,) = make_receivables(make_account(), document="Admin 1")
    pay(rid, "10")
    login_as(client, users["admin"])
    listing = client.get("/admin/finance_receivable/")
    assert listing.status_code == 200 and "Admin 1" in listing.get_data(as_text=True)
    assert client.get("/admin/finance_payment/").status_code == 200
    login_as(client, users["finance"])
    assert client.get("/admin/finance_receivable/").status_code in (302, 403, 404)


def test_demo_loader_makes_paid_open_and_overdue_receivables(app, users, make_account):
    from modules.finance import demo

    for index in range(3):
        make_account(legal_name=f"Demo {index}")
    with app.app_context():
        roles = {role.name: role for role in db.session.get(User, users["finance"]).roles}
        make_user("fernanda", list(roles.values()))
        db.session.commit()
        demo.load()
        receivables = db.session.scalars(select(Receivable)).all()
        assert len(receivables) == 36
        statuses = {r.status_on(date.today()) for r in receivables}
        assert {"paid", "open"} <= statuses
        assert db.session.scalars(select(Payment)).first() is not None
        past = [r for r in receivables if r.due_date < date.today() - timedelta(days=5)]
        assert past and {r.status_on(date.today()) for r in past} <= {"paid", "overdue"}
