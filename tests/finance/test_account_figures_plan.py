"""The account page's open and overdue receivables are indexed aggregates (issue 15): the
sum of the live receivables' amounts over a covering index range (account_id, cancelled,
due_date, amount) less the payments on them — no correlated sum of payments per receivable.
The figures stay what they were: amount - paid over the receivables still unpaid."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from erp.db import db, refresh_statistics, utcnow
from modules.crm.models import Account
from modules.finance.account_page import open_receivables, overdue_amount, owed_select
from modules.finance.models import Receivable
from tests.crm.plans import query_plan

INDEX = "ix_finance_receivable_account_open"


@pytest.fixture
def account(make_account):
    return make_account(owner="rep_a", legal_name="Cliente Financeiro Ltda.")


def _whale_receivables(account_id: int, count: int) -> None:
    """``count`` receivables of the account, a few cancelled, then fresh statistics."""
    start = date(2026, 1, 1)
    db.session.execute(Receivable.__table__.insert(), [
        {"account_id": account_id, "document": f"NF {n}", "origin": "manual",
         "issue_date": start, "due_date": start + timedelta(days=n % 365),
         "amount": Decimal("100.00"), "installment": 1, "installments": 1,
         "cancelled": n % 50 == 0, "created_at": utcnow()} for n in range(count)])
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        refresh_statistics()
    else:  # as autovacuum leaves a settled table: statistics and the visibility map
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE finance_receivable"))


def test_the_header_figures_read_the_covering_index_without_a_sum_per_receivable(
        app, account):
    with app.app_context():
        _whale_receivables(account, 2000)
        for plan in (query_plan(owed_select(account)),
                     query_plan(owed_select(account, Receivable.due_date < date(2026, 6, 1)))):
            if db.engine.dialect.name == "sqlite":
                assert f"COVERING INDEX {INDEX}" in plan, plan
                assert "CORRELATED" not in plan, plan
                assert not [line for line in plan.splitlines()
                            if line.strip().startswith("SCAN finance_")], plan
            else:
                # PostgreSQL weighs the account index against the due-date one by statistics
                # that earlier tests leave behind (their receivables share the table); each
                # is a range read, never the whole table.
                assert "Seq Scan on finance_receivable" not in plan, plan
                assert re.search(r"Index Cond: \(+(account_id|due_date) ", plan), plan
                assert "SubPlan" not in plan, plan  # InitPlans: once per query, not per row


def test_open_and_overdue_are_what_is_still_owed(app, account, make_receivables, pay):
    today = date.today()
    (late,) = make_receivables(account, document="Atrasado", amount="100",
                               due_date=today - timedelta(days=40), today=today - timedelta(60))
    (paid,) = make_receivables(account, document="Quitado", amount="50",
                               due_date=today - timedelta(days=20), today=today - timedelta(60))
    make_receivables(account, document="Futuro", amount="250,10",
                     due_date=today + timedelta(days=10))
    pay(late, "30,05", on=today, today=today)
    pay(paid, "50", on=today, today=today)
    with app.app_context():
        whale = db.session.get(Account, account)
        assert open_receivables(whale) == Decimal("320.05")
        assert overdue_amount(whale) == Decimal("69.95")
