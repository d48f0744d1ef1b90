"""The home page's widgets read what their figures need once (issue 15).

Finance's overdue receivables: the payments on each receivable are looked up once, in a
grouped join, not three times by the status expression's correlated sums (SQLite: each
one a "CORRELATED SCALAR SUBQUERY" over finance_payment; PostgreSQL: a SubPlan each).
CRM's "my open opportunities by stage": the user's own open opportunities are found by
the index that leads with status, archived, stage and owner (crm 0007), not by reading
every open opportunity of a stage and filtering on the owner.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from erp.auth.models import User
from erp.db import db, refresh_statistics, utcnow
from modules.crm.dashboard import pipeline_select
from modules.crm.models import Opportunity
from modules.finance.dashboard import overdue_summary, overdue_totals_select
from modules.finance.models import Payment, Receivable
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
        _settle(["finance_receivable", "finance_payment"])
        db.session.remove()
    return accounts


@pytest.mark.parametrize("who", ["admin", "finance", "rep_a"])
def test_overdue_totals_look_the_payments_up_once(app, users, book, who):
    with app.test_request_context():
        user = db.session.get(User, users[who])
        plan = query_plan(overdue_totals_select(user, TODAY))
        reads = [line for line in plan.splitlines()
                 if " on finance_payment " in line + " " or "SEARCH finance_payment" in line
                 or "SCAN finance_payment" in line]
        assert len(reads) == 1, plan


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
        if db.engine.dialect.name == "sqlite":
            reads = [line for line in plan.splitlines() if "crm_opportunity" in line]
            assert reads and all("owner_id=?" in line for line in reads), plan
        else:
            conditions = [line for line in plan.splitlines() if "Index Cond" in line
                          or "Filter" in line]
            assert any("owner_id" in line for line in plan.splitlines()
                       if "Index Cond" in line), plan
            assert not any("owner_id" in line and "Filter" in line for line in conditions), plan
