"""The finance rules: receivables by hand, payments, computed statuses, the list's
filters and the aging summary — with a fixed "today"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erp.auth.models import User
from erp.db import db
from erp.errors import InvalidInput
from modules.crm.models import Account
from modules.finance import services
from modules.finance.models import Payment, Receivable, status_expr
from tests.finance.conftest import TODAY


def statuses(today=TODAY):
    """{document: (status in Python, status in SQL)}."""
    rows = db.session.execute(select(Receivable, status_expr(today))).all()
    return {r.document: (r.status_on(today), sql) for r, sql in rows}


def test_installments_by_hand_split_the_amount_and_fall_a_month_apart(app, make_account,
                                                                      make_receivables):
    account_id = make_account()
    ids = make_receivables(account_id, document="Contrato 9", amount="1.000,00",
                           installments="3", due_date="31/01/2027")
    with app.app_context():
        made = [db.session.get(Receivable, i) for i in ids]
        # The one installment rule (erp.money.installment_plan), as on every invoice: the
        # LAST installment takes the remainder (issue 14; it used to be the first here).
        assert [(r.document, r.amount, r.due_date, r.installment_label) for r in made] == [
            ("Contrato 9 1/3", Decimal("333.33"), date(2027, 1, 31), "1/3"),
            ("Contrato 9 2/3", Decimal("333.33"), date(2027, 2, 28), "2/3"),
            ("Contrato 9 3/3", Decimal("333.34"), date(2027, 3, 31), "3/3")]
        assert {(r.origin, r.issue_date) for r in made} == {("manual", TODAY)}


@pytest.mark.parametrize("data, field", [
    ({"document": ""}, "document"),
    ({"amount": "0"}, "amount"),
    ({"amount": "-5"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"amount": "1,234"}, "amount"),  # three decimals
    ({"due_date": "31/02/2026"}, "due_date"),
    ({"due_date": ""}, "due_date"),
    ({"due_date": "2026-01-01", "issue_date": "2026-02-01"}, "due_date"),
    ({"installments": "0"}, "installments"),
    ({"installments": "x"}, "installments"),
    ({"amount": "0,02", "installments": "3"}, "amount"),
])
def test_bad_receivables_are_refused_with_nothing_written(app, users, make_account, data,
                                                          field):
    account_id = make_account()
    with app.app_context():
        account = db.session.get(Account, account_id)
        user = db.session.get(User, users["finance"])
        good = {"document": "X", "due_date": "10/12/2026", "amount": "10"}
        with pytest.raises(InvalidInput) as error:
            services.create_receivables(account, {**good, **data}, user=user, today=TODAY)
        assert field in error.value.errors
        db.session.rollback()
        assert db.session.scalar(select(func.count(Receivable.id))) == 0


def test_partial_then_full_payment(app, make_account, make_receivables, pay):
    (rid,) = make_receivables(make_account(), amount="300")
    with app.app_context():
        assert statuses() == {"Contrato 7": ("open", "open")}
    pay(rid, "100,50")
    with app.app_context():
        receivable = db.session.get(Receivable, rid)
        assert (receivable.paid, receivable.outstanding) == (Decimal("100.50"),
                                                             Decimal("199.50"))
        assert statuses() == {"Contrato 7": ("partial", "partial")}
    pay(rid, "199.50", method="cash")
    with app.app_context():
        assert statuses() == {"Contrato 7": ("paid", "paid")}
        # Paid: never overdue, whatever the date.
        assert statuses(date(2030, 1, 1)) == {"Contrato 7": ("paid", "paid")}


@pytest.mark.parametrize("data, field, message", [
    ({"amount": "300.01"}, "amount", "more than what is still owed"),
    ({"amount": "0"}, "amount", "greater than zero"),
    ({"amount": "-1"}, "amount", "greater than zero"),
    ({"amount": ""}, "amount", "required"),
    ({"method": "bitcoin"}, "method", "method"),
    ({"date": "24/11/2026"}, "date", "future"),
    ({"date": "99/99/2026"}, "date", "date"),
])
def test_bad_payments_are_refused_with_clear_messages(app, users, make_account,
                                                      make_receivables, data, field, message):
    (rid,) = make_receivables(make_account(), amount="300")
    with app.app_context():
        receivable = db.session.get(Receivable, rid)
        user = db.session.get(User, users["finance"])
        with pytest.raises(InvalidInput) as error:
            services.record_payment(receivable, {"amount": "10", "method": "pix", **data},
                                    user=user, today=TODAY)
        assert message in " ".join(error.value.errors[field])
        assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_no_payment_on_a_paid_or_cancelled_receivable(app, users, make_account,
                                                      make_receivables, pay):
    paid, cancelled = (make_receivables(make_account(), document=d, amount="50")[0]
                       for d in ("A", "B"))
    pay(paid, "50")
    with app.app_context():
        user = db.session.get(User, users["finance"])
        services.cancel_receivable(db.session.get(Receivable, cancelled), user=user)
        for rid, message in ((paid, "already paid"), (cancelled, "cancelled")):
            with pytest.raises(InvalidInput, match=message):
                services.record_payment(db.session.get(Receivable, rid),
                                        {"amount": "1", "method": "pix"}, user=user,
                                        today=TODAY)
        assert statuses()["B"] == ("cancelled", "cancelled")


def test_a_receivable_with_payments_or_from_an_invoice_is_not_cancelled_by_hand(
        app, users, make_account, make_receivables, pay):
    from tests.finance.conftest import issue

    account_id = make_account()
    (rid,) = make_receivables(account_id)
    pay(rid, "1")
    with app.app_context():
        issue(account_id=account_id)
        db.session.commit()
        user = db.session.get(User, users["finance"])
        invoiced = db.session.scalar(select(Receivable).where(Receivable.origin != "manual"))
        with pytest.raises(InvalidInput, match="cancel that document"):
            services.cancel_receivable(invoiced, user=user)
        with pytest.raises(InvalidInput, match="has payments"):
            services.cancel_receivable(db.session.get(Receivable, rid), user=user)


def test_overdue_is_computed_from_the_due_date(app, make_account, make_receivables, pay):
    account_id = make_account()
    (due_today,) = make_receivables(account_id, document="today", due_date=TODAY,
                                    today=date(2026, 1, 1))
    (due_yesterday,) = make_receivables(account_id, document="yesterday",
                                        due_date=date(2026, 11, 22), today=date(2026, 1, 1))
    (partly,) = make_receivables(account_id, document="partly", due_date=date(2026, 11, 1),
                                 today=date(2026, 1, 1))
    pay(partly, "10", on=date(2026, 10, 1))
    with app.app_context():
        assert statuses() == {"today": ("open", "open"),
                              "yesterday": ("overdue", "overdue"),
                              "partly": ("overdue", "overdue")}
        assert statuses(date(2026, 11, 1)) == {"today": ("open", "open"),
                                               "yesterday": ("open", "open"),
                                               "partly": ("partial", "partial")}


def test_list_filters(app, users, make_account, make_receivables, pay):
    acme = make_account(legal_name="Acme Ltda.")
    other = make_account(legal_name="Outra S.A.")
    make_receivables(acme, document="A-1", due_date=date(2026, 11, 20), today=date(2026, 1, 1))
    make_receivables(acme, document="A-2", due_date=date(2026, 11, 25))  # this week
    make_receivables(other, document="O-1", due_date=date(2026, 11, 29))  # Sunday
    (o2,) = make_receivables(other, document="O-2", due_date=date(2026, 11, 30))
    pay(o2, "300")

    def docs(**args):
        with app.app_context():
            user = db.session.get(User, users["finance"])
            filters = services.Filters.from_args(
                {k: str(v) for k, v in args.items()})
            query = services.receivables_select(user, filters, TODAY)
            return [r.document for r in db.session.scalars(query)]

    assert docs() == ["A-1", "A-2", "O-1", "O-2"]
    assert docs(status="overdue") == ["A-1"]
    assert docs(status="paid") == ["O-2"]
    assert docs(status="open") == ["A-2", "O-1"]
    assert docs(status="unpaid") == ["A-1", "A-2", "O-1"]
    assert docs(due="week") == ["A-2", "O-1"]
    assert docs(account_id=other) == ["O-1", "O-2"]
    assert docs(account="acme") == ["A-1", "A-2"]
    assert docs(q="o-") == ["O-1", "O-2"]
    assert docs(q="%") == []
    assert docs(status="bogus", due="never") == ["A-1", "A-2", "O-1", "O-2"]
    with app.app_context():
        user = db.session.get(User, users["finance"])
        totals = services.receivables_totals(user, services.Filters(), TODAY)
        assert totals == {"amount": Decimal("1200.00"), "paid": Decimal("300.00"),
                          "outstanding": Decimal("900.00")}


def test_aging_buckets_by_account(app, users, make_account, make_receivables, pay):
    a = make_account(legal_name="Alfa Ltda.")
    b = make_account(legal_name="Beta Ltda.")
    old = date(2025, 1, 1)
    # Alfa: days overdue on 23/11/2026 -> bucket
    make_receivables(a, document="a0", amount="100", due_date=TODAY, today=old)  # 0: not due
    make_receivables(a, document="a1", amount="10", due_date=date(2026, 11, 22), today=old)  # 1
    make_receivables(a, document="a30", amount="20", due_date=date(2026, 10, 24), today=old)  # 30
    make_receivables(a, document="a31", amount="40", due_date=date(2026, 10, 23), today=old)  # 31
    make_receivables(a, document="a60", amount="80", due_date=date(2026, 9, 24), today=old)  # 60
    make_receivables(a, document="a61", amount="160", due_date=date(2026, 9, 23), today=old)
    make_receivables(a, document="a90", amount="320", due_date=date(2026, 8, 25), today=old)
    make_receivables(a, document="a91", amount="640", due_date=date(2026, 8, 24), today=old)
    # Beta: a partly paid one (outstanding counts), a paid one and a cancelled one (nothing).
    (partly,) = make_receivables(b, document="b1", amount="1000", due_date=date(2026, 6, 1),
                                 today=old)
    pay(partly, "250")
    (paid,) = make_receivables(b, document="b2", amount="5", due_date=date(2026, 11, 1),
                               today=old)
    pay(paid, "5")
    (gone,) = make_receivables(b, document="b3", amount="7", due_date=date(2026, 11, 1),
                               today=old)
    with app.app_context():
        user = db.session.get(User, users["finance"])
        services.cancel_receivable(db.session.get(Receivable, gone), user=user)
        rows, totals = services.aging(user, TODAY)
    d = Decimal
    assert [(r["name"], r["current"], r["d0_30"], r["d31_60"], r["d61_90"], r["d90_plus"],
             r["total"]) for r in rows] == [
        ("Alfa Ltda.", d(100), d(30), d(120), d(480), d(640), d(1370)),
        ("Beta Ltda.", d(0), d(0), d(0), d(0), d(750), d(750))]
    assert totals == {"current": d(100), "d0_30": d(30), "d31_60": d(120), "d61_90": d(480),
                      "d90_plus": d(1390), "total": d(2120)}


def test_aging_and_list_follow_record_scope(app, users, make_account, make_receivables):
    mine = make_account(owner="rep_a", legal_name="Minha")
    theirs = make_account(owner="rep_c", legal_name="Deles")
    make_receivables(mine, document="m")
    make_receivables(theirs, document="t")
    with app.app_context():
        manager = db.session.get(User, users["manager"])  # team scope: rep_a, not rep_c
        rows, _totals = services.aging(manager, TODAY)
        assert [r["name"] for r in rows] == ["Minha"]
        docs = db.session.scalars(services.receivables_select(manager, services.Filters(),
                                                              TODAY))
        assert [r.document for r in docs] == ["m"]
