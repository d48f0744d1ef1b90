"""The aging summary and the aging report at scale (issue 15): driven from the receivables,
one aggregate per page, a page of debtors at a time — with the figures they had before.

Before, the GROUP BY went over every account in scope (a full scan of crm_account: 200,000
rows for 5,000 debtors), the report ran it three times per page (totals, count, rows) and
the summary page rendered every debtor. Structural checks only, never timings: the plans
of the statements the pages really run, how many statements, how many rows a page shows.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import and_, case, func, select

from erp.auth.models import User
from erp.db import db, refresh_statistics
from modules.crm.models import Account
from modules.crm.services.scope import account_scope
from modules.finance import reports, services
from modules.finance.models import Payment, Receivable
from tests.conftest import login_as
from tests.crm.plans import default_statistics, full_scans  # noqa: F401 (a fixture)
from tests.finance.conftest import TODAY
from tests.reporting import captured, html_table, queries_for


def table_reads(plan: str) -> set[str]:
    from tests.finance.test_dashboard_plans import table_reads as reads

    return reads(plan)

SCOPES = ["finance", "manager", "rep_a"]  # all, team, own
OWNERS = ["rep_a", "rep_b", "rep_c", "manager"]


@pytest.fixture(autouse=True)
def _no_statistics(default_statistics):  # noqa: F811
    """Plans as on a grown table (an earlier test's ANALYZE of a few rows would make
    reading every account look free)."""


def seed(app, users, make_account, accounts: int = 24, seed: int = 15) -> list[int]:
    """``accounts`` accounts of the four owners, each with 0-6 receivables due from 200
    days ago to 60 days ahead: some cancelled, some partly or fully paid."""
    rng = random.Random(seed)  # noqa: S311 (test data, reproducible)
    ids = [make_account(owner=OWNERS[n % len(OWNERS)], legal_name=f"Devedor {n:02d} Ltda.")
           for n in range(accounts)]
    with app.app_context():
        for account_id in ids:
            for n in range(rng.randrange(7)):
                amount = Decimal(rng.randrange(1000, 500000)) / 100
                receivable = Receivable(
                    account_id=account_id, document=f"NF {account_id}-{n}",
                    issue_date=date(2026, 1, 1),
                    due_date=TODAY + timedelta(days=rng.randrange(-200, 60)),
                    amount=amount, cancelled=rng.random() < 0.1)
                db.session.add(receivable)
                db.session.flush()
                paid = rng.choice([None, None, "part", "all"])
                if paid and not receivable.cancelled:
                    first = (amount / 3).quantize(Decimal("0.01"))
                    parts = [first, amount - first] if paid == "all" else [first]
                    for part in parts:
                        db.session.add(Payment(receivable_id=receivable.id,
                                               account_id=account_id, date=TODAY,
                                               amount=part, method="pix"))
        db.session.commit()
        if db.engine.dialect.name != "sqlite":  # as autovacuum would: not an earlier
            # test's few accounts per owner (then an owner's accounts looked cheaper
            # to scan for each receivable than the account's primary key)
            refresh_statistics(["crm_account", "finance_receivable", "finance_payment",
                                "finance_receivable_balance"])
    return ids


def before_select(user, today: date):
    """The aging GROUP BY as it was before issue 15 (every account in scope joined to its
    receivables and their payments): the reference for the figures."""
    paid = (select(Payment.receivable_id, func.sum(Payment.amount).label("paid"))
            .group_by(Payment.receivable_id).subquery())
    owed = Receivable.amount - func.coalesce(paid.c.paid, 0)
    due = Receivable.due_date

    def days(low, high):
        condition = due <= today - timedelta(days=low)
        if high is not None:
            condition = and_(condition, due >= today - timedelta(days=high))
        return func.coalesce(func.sum(case((condition, owed), else_=0)), 0)

    columns = [func.coalesce(func.sum(case((due >= today, owed), else_=0)), 0),
               days(1, 30), days(31, 60), days(61, 90), days(91, None)]
    return (select(Account.id, *(c.label(n) for c, n in zip(columns, services.BUCKETS,
                                                              strict=True)),
                   func.sum(owed).label("total"))
            .select_from(Receivable).join(Account, Account.id == Receivable.account_id)
            .outerjoin(paid, paid.c.receivable_id == Receivable.id)
            .where(account_scope(user), Receivable.cancelled.is_(False), owed > 0)
            .group_by(Account.id)
            .order_by(func.sum(owed).desc(), Account.id))


def money(value) -> Decimal:
    return services.to_money(value)


@pytest.mark.parametrize("who", SCOPES)
def test_the_same_figures_as_before(app, users, make_account, who):
    seed(app, users, make_account)
    with app.app_context():
        user = db.session.get(User, users[who])
        before = [(row.id, *(money(getattr(row, n)) for n in services.FIGURES))
                  for row in db.session.execute(before_select(user, TODAY))]
        assert len(before) > 3
        rows, totals = services.aging(user, TODAY)
        assert [(r["account_id"], *(r[n] for n in services.FIGURES)) for r in rows] == before
        assert totals == {n: sum((row[i + 1] for row in before), Decimal("0.00"))
                          for i, n in enumerate(services.FIGURES)}
        # Page by page: the same rows in the same order, the totals over all of them.
        paged = []
        for page in range(1, len(before) // 3 + 3):
            pagination = services.aging_page(user, TODAY, page=page, per_page=3)
            assert len(pagination.items) <= 3
            assert pagination.totals == {**totals, "accounts": len(before)}
            assert pagination.total == len(before)
            paged += pagination.items
        assert paged == rows
        # The report: the accounts with something overdue, and their four buckets.
        filters = reports.AgingFilters(as_of=TODAY)
        overdue = sorted(((row[0], *row[2:6], sum(row[2:6])) for row in before
                          if sum(row[2:6]) > 0), key=lambda row: (-row[-1], row[0]))
        report = [(row.account_id, *(money(getattr(row, n)) for n in reports.REPORT_FIGURES))
                  for row in db.session.execute(reports.aging_rows(user, filters))]
        assert report == overdue
        report_totals = reports.aging_totals(user, filters)
        assert report_totals == {
            **{n: sum((row[i + 1] for row in overdue), Decimal("0.00"))
               for i, n in enumerate(reports.REPORT_FIGURES)},
            "accounts": len(overdue)}
        # The report's pages (OverduePage): the same rows in the same order, the same
        # totals over all of them, page after page (and past the end).
        paged = []
        for page in range(1, len(overdue) // 3 + 3):
            pagination = reports.OverduePage(user=user, filters=filters, page=page,
                                             per_page=3, max_per_page=None, error_out=False)
            assert pagination.totals == report_totals
            assert pagination.total == len(overdue)
            paged += [(row.account_id, *(money(getattr(row, n))
                                         for n in reports.REPORT_FIGURES))
                      for row in pagination.items]
        assert paged == overdue


def test_the_report_owner_and_team_filters_stay_within_the_scope(app, users, make_account):
    seed(app, users, make_account)
    with app.app_context():
        finance = db.session.get(User, users["finance"])
        manager = db.session.get(User, users["manager"])
        rep_b = users["rep_b"]
        owners = dict(db.session.execute(select(Account.id, Account.owner_id)).all())

        def accounts(user, **filters):
            return {row.account_id for row in db.session.execute(reports.aging_rows(
                user, reports.AgingFilters(as_of=TODAY, **filters)))}

        everyone = accounts(finance)
        assert {owners[a] for a in accounts(finance, owner_id=rep_b)} == {rep_b}
        team = manager.team_id
        in_team = {u for u, t in db.session.execute(select(User.id, User.team_id)) if t == team}
        assert accounts(finance, team_id=team) == {a for a in everyone if owners[a] in in_team}
        assert accounts(manager) == accounts(finance, team_id=team)
        other_team = db.session.get(User, users["rep_c"]).team_id
        assert accounts(manager, team_id=other_team) == set()  # never outside the scope


# --- the statements the pages run ---------------------------------------------------------


def explain(app, statement: str, parameters, *, hash_groups: bool = True) -> str:
    """``EXPLAIN QUERY PLAN`` on SQLite; ``EXPLAIN`` with sequential scans forbidden on
    PostgreSQL (a tiny test table still shows whether an index can answer), and hashed
    groups and sorts if ``hash_groups`` is false (whether the groups can come in an
    index's order: a few test rows are cheaper to hash or sort, 4,000 accounts' sums
    spilled to disk)."""
    with app.app_context(), db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        if not hash_groups:  # (nor sorted, where an index can give the order)
            conn.exec_driver_sql("SET enable_hashagg = off")
            conn.exec_driver_sql("SET enable_sort = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        return "\n".join(row[0] for row in rows)


def aggregates(seen) -> list[tuple[str, object]]:
    """The captured statements that sum the receivables."""
    return [(sql, params) for sql, params in seen
            if "finance_receivable" in sql and "GROUP BY" in sql]


# The aging summary page (/finance/aging) is now a redirect to the report (issue 17).
PAGES = [f"/finance/reports/aging?as_of={TODAY}", f"/finance/reports/aging?as_of={TODAY}&page=2"]


@pytest.mark.parametrize("who", ["finance", "manager"])
@pytest.mark.parametrize("url", [*PAGES, f"/finance/reports/aging?as_of={TODAY}&format=csv"])
def test_driven_from_the_balances_by_owner_never_the_accounts(
        app, client, users, make_account, who, url, monkeypatch):
    seed(app, users, make_account)
    monkeypatch.setitem(app.config, "ERP_PAGE_SIZE", 3)
    login_as(client, users[who])
    with captured(app) as seen:
        response = client.get(url)
        response.get_data()  # a streamed CSV runs its queries while it is read
    assert response.status_code == 200
    found = aggregates(seen)
    # A page: the accounts ranked by what they owe overdue (one sum per receivable, the
    # count over all of them) and the page's accounts' buckets, two groupings; the totals
    # from the sums by owner and day. The CSV sums the totals, then streams every row.
    assert len(found) == 2, [sql for sql, _ in found]
    for sql, params in found:
        plan = explain(app, sql, params, hash_groups=False)
        with app.app_context():
            sqlite = db.engine.dialect.name == "sqlite"
            assert not full_scans(plan, "crm_account"), plan
            assert not full_scans(plan, "finance_receivable_balance"), plan
        # The receivables' balances alone (finance 0005), not the receivables and their
        # payments, nor each debtor's account for its owner.
        assert not re.search(r"(SCAN|SEARCH|on) (finance_receivable|finance_payment)\b"
                             r"(?!_balance)", plan), plan
        page_buckets = "GROUP BY finance_receivable_balance.account_id" in sql
        if page_buckets:  # the page's few accounts, by the balances' account index
            assert "csv" not in url
            assert re.search(r"account_id=\?|Index Cond: \(account_id = ANY", plan), plan
        elif sqlite:
            # In the index's order (owner, account): the groups need no sort; each
            # account only by its primary key (the page's names).
            assert re.search(r"(SCAN|SEARCH) finance_receivable_balance USING COVERING INDEX",
                             plan), plan
            assert "TEMP B-TREE FOR GROUP BY" not in plan, plan
            assert all("crm_account USING INTEGER PRIMARY KEY" in line
                       for line in plan.splitlines() if "crm_account" in line), plan
        else:
            # The scope's owners as index ranges, read in (owner, account) order: the
            # groups need no sort.
            assert re.search(r"Index Cond: \(\(owner_id = ANY", plan), plan
            assert not re.search(r"Sort Key: finance_receivable_balance\.owner_id", plan), plan
            if " on crm_account" in plan:  # the accounts by primary key
                assert re.search(r"Index Cond: \(id = ", plan), plan
    if "csv" not in url:  # the totals: the sums by owner and day, by key
        [(sql, params)] = [(q, p) for q, p in seen if "FROM finance_receivable_day" in q]
        plan = explain(app, sql, params)
        assert table_reads(plan) - {"auth_user"} == {"finance_receivable_day"}, plan


@pytest.mark.parametrize("url", PAGES)
def test_a_page_of_debtors_costs_the_same_whatever_their_number(
        app, client, users, make_account, url, monkeypatch):
    monkeypatch.setitem(app.config, "ERP_PAGE_SIZE", 3)
    login_as(client, users["manager"])
    def page_rows() -> int:
        html = client.get(url).get_data(as_text=True)
        table = html_table(html, "aging-report" if "reports" in url else "aging")
        return len(table) - 2  # less the header and the totals

    seed(app, users, make_account, accounts=20, seed=1)
    few = queries_for(app, client, url)
    assert page_rows() == 3
    seed(app, users, make_account, accounts=60, seed=2)
    assert queries_for(app, client, url) == few
    assert page_rows() == 3
