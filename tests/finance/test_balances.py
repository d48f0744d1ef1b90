"""finance_receivable_balance (finance 0005, issue 15): what is owed on each receivable,
with its account's owner, kept by database triggers in the same transaction as the rows —
whatever writes them: the services, a bulk UPDATE (as a merge moves receivables), an
account given to another owner, a payment changed or deleted. After every step the table
equals what the receivables, their payments and their accounts say, and so do the sums by
owner and due date (finance_receivable_day, finance 0006). The migrations fill them from
the rows already there and their way back removes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import flask_migrate
from sqlalchemy import func, inspect, select, text

from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account
from modules.finance import services
from modules.finance.models import Payment, Receivable, ReceivableBalance, ReceivableDay
from modules.finance.services.common import to_money
from tests.conftest import make_user
from tests.finance.conftest import TODAY


def kept() -> dict:
    """The balances as the triggers keep them (a new transaction: what is committed)."""
    db.session.commit()
    return {row.receivable_id: (row.account_id, row.owner_id, bool(row.cancelled),
                                row.due_date, to_money(row.amount), to_money(row.paid))
            for row in db.session.execute(select(ReceivableBalance.__table__))}


def computed() -> dict:
    """The balances as the receivables, payments and accounts say."""
    paid = (select(func.coalesce(func.sum(Payment.amount), 0))
            .where(Payment.receivable_id == Receivable.id).scalar_subquery())
    rows = db.session.execute(
        select(Receivable.id, Receivable.account_id, Account.owner_id, Receivable.cancelled,
               Receivable.due_date, Receivable.amount, paid)
        .join(Account, Account.id == Receivable.account_id))
    return {row[0]: (row[1], row[2], bool(row[3]), row[4], to_money(row[5]),
                     to_money(row[6])) for row in rows}


def days_kept() -> dict:
    """finance_receivable_day as the triggers keep it (rows of nothing left out)."""
    db.session.commit()
    return {(row.owner_id, row.due_date): (row.unpaid, row.amount_cents, row.paid_cents)
            for row in db.session.execute(select(ReceivableDay.__table__))
            if (row.unpaid, row.amount_cents, row.paid_cents) != (0, 0, 0)}


def days_computed() -> dict:
    """The live receivables by owner and due date: how many not paid in full, amounts
    and payments in cents."""
    days: dict = {}
    for _, owner, cancelled, due, amount, paid in computed().values():
        if cancelled:
            continue
        unpaid, amounts, paids = days.get((owner, due), (0, 0, 0))
        days[(owner, due)] = (unpaid + (amount > paid), amounts + int(amount * 100),
                              paids + int(paid * 100))
    return {key: value for key, value in days.items() if value != (0, 0, 0)}


def check() -> dict:
    db.session.expire_all()
    assert kept() == computed()
    assert days_kept() == days_computed()
    return kept()


def test_the_triggers_keep_every_balance_exact(app, users, make_account, make_receivables):
    first = make_account(owner="rep_a", legal_name="Primeira Ltda.")
    second = make_account(owner="rep_b", legal_name="Segunda Ltda.")
    ids = make_receivables(first, document="Contrato 1", amount="900,00", installments="3")
    other = make_receivables(second, document="Contrato 2", amount="50,00")[0]
    with app.app_context():
        user = db.session.get(User, users["finance"])
        balances = check()
        assert {i: b[1] for i, b in balances.items()} == {
            **dict.fromkeys(ids, users["rep_a"]), other: users["rep_b"]}
        assert {b[5] for b in balances.values()} == {Decimal("0.00")}

        # Payments through the service: part, then the rest.
        receivable = db.session.get(Receivable, ids[0])
        services.record_payment(receivable, {"amount": "100,00", "method": "pix"},
                                user=user, today=TODAY)
        db.session.commit()
        assert check()[ids[0]][5] == Decimal("100.00")
        services.record_payment(receivable, {"amount": "200,00", "method": "pix"},
                                user=user, today=TODAY)
        db.session.commit()
        assert check()[ids[0]][5] == Decimal("300.00")

        # Cancelled; changed by hand (due date, amount).
        services.cancel_receivable(db.session.get(Receivable, ids[1]), user=user)
        db.session.commit()
        assert check()[ids[1]][2] is True
        changed = db.session.get(Receivable, ids[2])
        changed.due_date, changed.amount = date(2026, 1, 15), Decimal("333.33")
        db.session.commit()
        assert check()[ids[2]][3:5] == (date(2026, 1, 15), Decimal("333.33"))

        # Moved to another account by a bulk UPDATE (as a merge does): its new owner.
        db.session.execute(text("UPDATE finance_receivable SET account_id = :a WHERE id = :r"),
                           {"a": second, "r": ids[2]})
        db.session.commit()
        assert check()[ids[2]][:2] == (second, users["rep_b"])

        # The account given to another owner: its receivables' owner follows.
        db.session.get(Account, first).owner_id = users["rep_c"]
        db.session.commit()
        balances = check()
        assert {balances[i][1] for i in ids[:2]} == {users["rep_c"]}
        assert balances[ids[2]][1] == users["rep_b"]

        # A payment changed, moved to another receivable, deleted.
        payment = db.session.scalars(select(Payment).where(Payment.receivable_id == ids[0])
                                     .order_by(Payment.id)).first()
        payment.amount = Decimal("40.00")
        db.session.commit()
        assert check()[ids[0]][5] == Decimal("240.00")
        db.session.execute(text("UPDATE finance_payment SET receivable_id = :r WHERE id = :p"),
                           {"r": other, "p": payment.id})
        db.session.commit()
        balances = check()
        assert (balances[ids[0]][5], balances[other][5]) == (Decimal("200.00"),
                                                              Decimal("40.00"))
        db.session.execute(text("DELETE FROM finance_payment WHERE id = :p"),
                           {"p": payment.id})
        db.session.commit()
        assert check()[other][5] == Decimal("0.00")

        # A receivable deleted (its payments first): its balance goes with it.
        db.session.execute(text("DELETE FROM finance_payment WHERE receivable_id = :r"),
                           {"r": ids[0]})
        db.session.execute(text("DELETE FROM finance_receivable WHERE id = :r"), {"r": ids[0]})
        db.session.commit()
        assert ids[0] not in check()


BEFORE, AFTER, DAYS = ("0004_finance_version", "0005_finance_receivable_balance",
                       "0006_finance_receivable_day")


def test_the_migration_fills_the_balances_and_the_way_back_drops_them(
        make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "crm@head", BEFORE):
            flask_migrate.upgrade(revision=revision)
        user, heir = make_user("migrator", []), make_user("heir", [])
        db.session.flush()
        account = Account(legal_name="Migrada Ltda.", owner_id=user.id)
        db.session.add(account)
        db.session.commit()
        values = {"a": account.id, "d": date(2026, 11, 1), "heir": heir.id}
        db.session.remove()
        with db.engine.begin() as conn:
            for document, cancelled in (("A", False), ("B", True), ("C", False)):
                conn.execute(text(
                    "INSERT INTO finance_receivable (account_id, document, origin, issue_date,"
                    " due_date, amount, installment, installments, cancelled, created_at,"
                    " version) VALUES (:a, :doc, 'manual', :d, :d, 100, 1, 1, :c, :d, 1)"),
                    {**values, "doc": document, "c": cancelled})
            first = conn.execute(text("SELECT min(id) FROM finance_receivable")).scalar()
            for amount in (30, 20):
                conn.execute(text(
                    "INSERT INTO finance_payment (receivable_id, account_id, date, amount,"
                    " method, created_at) VALUES (:r, :a, :d, :m, 'pix', :d)"),
                    {**values, "r": first, "m": amount})

        flask_migrate.upgrade(revision=AFTER)
        balances = kept()
        assert balances == computed() and len(balances) == 3
        assert balances[first][5] == Decimal("50.00")
        with db.engine.begin() as conn:  # kept from now on
            conn.execute(text(
                "INSERT INTO finance_payment (receivable_id, account_id, date, amount,"
                " method, created_at) VALUES (:r, :a, :d, 10, 'pix', :d)"),
                {**values, "r": first})
        assert kept()[first][5] == Decimal("60.00")
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        assert "finance_receivable_balance" not in inspect(db.engine).get_table_names()
        with db.engine.begin() as conn:  # no trigger left behind
            conn.execute(text(
                "INSERT INTO finance_payment (receivable_id, account_id, date, amount,"
                " method, created_at) VALUES (:r, :a, :d, 5, 'pix', :d)"),
                {**values, "r": first})
            conn.execute(text("UPDATE crm_account SET owner_id = :heir"), values)
            conn.execute(text("UPDATE finance_receivable SET amount = 90"))
        flask_migrate.upgrade(revision=AFTER)
        assert kept() == computed()
        # The days (finance 0006): summed from the balances, kept from then on, dropped
        # on the way back (no trigger left on the balances).
        flask_migrate.upgrade(revision=DAYS)
        assert days_kept() == days_computed() != {}
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE finance_receivable SET cancelled = :c WHERE id = :r"),
                         {"c": True, "r": first})
        assert days_kept() == days_computed()
        db.session.remove()
        flask_migrate.downgrade(revision=AFTER)
        assert "finance_receivable_day" not in inspect(db.engine).get_table_names()
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE finance_receivable SET amount = 80"))
        assert kept() == computed()
        db.session.remove()
        db.engine.dispose()
