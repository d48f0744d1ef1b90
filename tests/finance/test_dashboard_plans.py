"""The home page's widgets read what their figures need once (issue 15).

Finance's overdue receivables: read from the live receivables' sums by owner and due date
(finance 0006, kept by triggers), not from the payments (at first three correlated sums
per receivable by the status expression) nor each receivable's account (a correlated
probe for its owner).
CRM's "my open opportunities by stage": the user's own open opportunities are found by
the index that leads with status, archived, stage and owner (crm 0007), not by reading
every open opportunity of a stage and filtering on the owner.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from erp.auth.models import User
from erp.db import db, refresh_statistics, utcnow
from modules.crm.dashboard import pipeline_select
from modules.crm.models import Opportunity
from modules.finance.dashboard import overdue_summary, overdue_totals_select
from modules.finance.models import Payment, Receivable, ReceivableDay
from tests.crm.plans import query_plan

TODAY = date(2026, 11, 23)


def _settle(tables: list[str]) -> None:
    if db.engine.dialect.name == "sqlite":
        refresh_statistics()
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(text(f"VACUUM ANALYZE {table}"))


@pytest.fixture
def book(app, users, make_account):
    """Receivables of two owners, most due before TODAY, some paid in part or in full."""
    accounts = [make_account(owner=owner, legal_name=f"Cliente {n} Ltda.")
                for n, owner in enumerate(["rep_a", "rep_b", "rep_c"] * 4)]
    with app.app_context():
        start = date(2026, 1, 1)
        db.session.execute(Receivable.__table__.insert(), [
            {"account_id": accounts[n % len(accounts)], "document": f"NF {n}",
             "origin": "manual", "issue_date": start, "due_date": start + timedelta(days=n),
             "amount": Decimal("100.00"), "installment": 1, "installments": 1,
             "cancelled": n % 40 == 0, "created_at": utcnow()} for n in range(400)])
        ids = db.session.scalars(db.select(Receivable.id).order_by(Receivable.id)).all()
        db.session.execute(Payment.__table__.insert(), [
            {"receivable_id": ident, "account_id": accounts[n % len(accounts)],
             "date": start, "amount": Decimal("100.00") if n % 6 == 0 else Decimal("40.00"),
             "method": "pix", "created_at": utcnow()}
            for n, ident in enumerate(ids) if n % 3 == 0])
        db.session.commit()
        _settle(["finance_receivable", "finance_payment", "finance_receivable_balance",
                 "finance_receivable_day"])
        db.session.remove()
    return accounts


def table_reads(plan: str) -> set[str]:
    """The tables (or their indexes) a plan reads."""
    found = set()
    for line in plan.splitlines():
        if "Bitmap Index Scan on" in line:  # PostgreSQL: an index's name; its table follows
            continue
        match = (re.search(r"\b(?:SCAN|SEARCH) (\w+)", line)
                 or re.search(r" on (\w+)", line))
        if match:
            found.add(match.group(1))
    return found


@pytest.mark.parametrize("who", ["admin", "finance", "manager", "rep_a"])
def test_overdue_totals_read_the_sums_by_owner_and_day(app, users, book, who):
    """The overdue count and amount read finance_receivable_day alone (finance 0006, kept
    by triggers), the days before today in the scope's owners' ranges of its key: neither
    the receivables, their payments (summed per receivable, issue 15's first fix) nor each
    receivable's account for its owner (a correlated primary-key probe per receivable,
    10.4 ms for a manager at 200K vs 2.6 at 20K)."""
    with app.test_request_context():
        user = db.session.get(User, users[who])
        plan = query_plan(overdue_totals_select(user, TODAY))
        assert table_reads(plan) - {"auth_user"} == {"finance_receivable_day"}, plan
        assert "CORRELATED" not in plan and "SubPlan" not in plan, plan
        if db.engine.dialect.name == "sqlite":
            assert re.search(r"SEARCH finance_receivable_day USING PRIMARY KEY "
                             r"\(owner_id=\? AND due_date<\?\)", plan), plan
        else:
            assert re.search(r"Index Cond: \(\(owner_id = ANY .*due_date <", plan), plan


def test_the_sums_by_day_do_not_grow_with_the_receivables(app, users, book):
    """More receivables due on the same days: the same rows to read."""
    with app.app_context():
        rows = db.session.scalar(db.select(db.func.count()).select_from(ReceivableDay))
        receivables = db.session.execute(db.select(Receivable)).scalars().all()
        db.session.execute(Receivable.__table__.insert(), [
            {"account_id": r.account_id, "document": f"{r.document} bis", "origin": "manual",
             "issue_date": r.issue_date, "due_date": r.due_date, "amount": r.amount,
             "installment": 1, "installments": 1, "cancelled": r.cancelled,
             "created_at": utcnow()} for r in receivables * 3])
        db.session.commit()
        assert db.session.scalar(
            db.select(db.func.count()).select_from(ReceivableDay)) == rows


def test_overdue_figures_are_the_status_expression_s(app, users, book, reps_read_finance):
    """The same count and amount as summing amount - paid over the receivables whose
    computed status is overdue, for every scope."""
    from erp.auth import scope_clause
    from modules.crm.models import Account
    from modules.finance.models import OVERDUE, status_expr

    with app.test_request_context():
        for who in ("admin", "manager", "rep_a", "rep_c"):
            user = db.session.get(User, users[who])
            summary = overdue_summary(user, TODAY)
            count, owed = db.session.execute(
                db.select(db.func.count(Receivable.id),
                          db.func.coalesce(db.func.sum(Receivable.amount - Receivable.paid), 0))
                .join(Account, Account.id == Receivable.account_id)
                .where(status_expr(TODAY) == OVERDUE,
                       scope_clause(Account.owner_id, user))).one()
            assert (summary.count, summary.outstanding) == (count, Decimal(owed)), who
            if who == "admin":
                assert summary.count > 100


@pytest.fixture
def reps_read_finance(app):
    from erp.auth.models import Role

    with app.app_context():
        role = db.session.scalar(db.select(Role).where(Role.name == "sales_rep"))
        role.permissions = sorted({*role.permissions, "finance.read"})
        db.session.commit()
        db.session.remove()


@pytest.fixture
def opportunities(app, users, make_account, pipeline):
    """Open opportunities of three owners in every stage (and some closed or archived)."""
    account = make_account(owner="rep_a", legal_name="Funil Ltda.")
    owners = [users["rep_a"], users["rep_b"], users["rep_c"]]
    stages = list(pipeline["stages"].values())
    with app.app_context():
        now = utcnow()
        db.session.execute(Opportunity.__table__.insert(), [
            {"account_id": account, "title": f"Negócio {n}", "stage_id": stages[n % len(stages)],
             "owner_id": owners[n % 3], "status": "open" if n % 5 else "won",
             "archived": n % 17 == 0, "estimated_value": Decimal("10.00"), "priority": False,
             "created_at": now, "updated_at": now} for n in range(600)])
        db.session.commit()
        _settle(["crm_opportunity", "crm_stage"])  # the stages too: the join order
        db.session.remove()


def test_my_pipeline_reads_my_open_opportunities_by_index(app, users, opportunities):
    with app.test_request_context():
        user = db.session.get(User, users["rep_a"])
        plan = query_plan(pipeline_select(user))
        # Since crm 0023 the open pipeline's totals by owner, not the opportunities.
        assert "crm_opportunity" not in plan, plan
        if db.engine.dialect.name == "sqlite":
            reads = [line for line in plan.splitlines() if "crm_pipeline_total" in line]
            assert reads and all("owner_id=?" in line for line in reads), plan
        else:
            conditions = [line for line in plan.splitlines() if "Index Cond" in line
                          or "Filter" in line]
            assert any("owner_id" in line for line in plan.splitlines()
                       if "Index Cond" in line), plan
            assert not any("owner_id" in line and "Filter" in line for line in conditions), plan
