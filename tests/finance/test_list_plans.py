"""The receivables list at scale (issue 15): pages by keyset over the (due_date, id) index
(a deep page costs what the first does), a capped count, and totals that read the
receivables' balances alone by owner (finance 0005) — or, filtered by the account's names,
the receivables with the account by primary key, never a join, and no sum of payments per
receivable. The same rows and totals
for every scope. Structural checks only, never timings."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from erp.auth.models import User
from erp.db import db, refresh_statistics
from modules.finance import services
from modules.finance.models import STATUSES, Payment, Receivable
from tests.conftest import login_as
from tests.crm.plans import default_statistics, full_scans  # noqa: F401 (a fixture)
from tests.finance.conftest import TODAY
from tests.finance.test_aging_plans import aggregates, explain, seed
from tests.finance.test_dashboard_plans import reps_read_finance, table_reads  # noqa: F401
from tests.reporting import captured, queries_for


@pytest.fixture(autouse=True)
def _no_statistics(default_statistics):  # noqa: F811
    """Plans as on a grown table."""


def totals_statement(seen) -> tuple[str, object]:
    """The totals: two sums in one statement (amounts, payments)."""
    [found] = [(sql, params) for sql, params in seen
               if sql.startswith("SELECT (SELECT coalesce(sum(CASE")
               or "FROM finance_receivable_balance" in sql
               or "FROM finance_receivable_day" in sql]
    return found


@pytest.mark.parametrize("who", ["finance", "manager", "rep_a"])
@pytest.mark.parametrize("query", ["", "status=unpaid", "status=overdue", "due=week"])
def test_the_totals_read_the_balances_alone(app, client, users, make_account,
                                            reps_read_finance, who, query):  # noqa: F811
    """The list's header totals read the sums by owner and day (finance 0006) for the
    whole list, finance_receivable_balance (0005) when filtered, alone, by owner: neither
    each receivable's account (a correlated probe for its owner: 6.7 ms for a manager at
    200K vs 1.3 ms at 20K) nor the payments."""
    seed(app, users, make_account)
    with app.app_context():
        refresh_statistics(["finance_receivable_balance", "finance_receivable_day"])
    login_as(client, users[who])
    with captured(app) as seen:
        assert client.get(f"/finance/?{query}").status_code == 200
    sql, params = totals_statement(seen)
    plan = explain(app, sql, params)
    # The whole list: the sums by owner and day (finance 0006); filtered: the balances.
    read = "finance_receivable_balance" if query else "finance_receivable_day"
    assert table_reads(plan) - {"auth_user"} == {read}, plan
    assert "CORRELATED" not in plan and "SubPlan" not in plan, plan


@pytest.mark.parametrize("who", ["finance", "manager"])
def test_the_totals_by_account_name_read_the_receivables_not_a_join_of_the_accounts(
        app, client, users, make_account, who):
    seed(app, users, make_account)
    login_as(client, users[who])
    with captured(app) as seen:
        assert client.get("/finance/?account=devedor").status_code == 200
    sql, params = totals_statement(seen)
    assert not aggregates(seen)  # nothing grouped
    assert not re.search(r"JOIN crm_account\b", sql), sql
    plan = explain(app, sql, params)
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        assert not full_scans(plan, "crm_account"), plan
    if sqlite:
        # Accounts by primary key; payments summed once, not per receivable.
        assert all("crm_account USING INTEGER PRIMARY KEY" in line
                   for line in plan.splitlines() if "crm_account" in line), plan
        assert not re.search(r"SEARCH finance_payment USING INDEX ix_finance_payment_",
                             plan), plan
    elif " on crm_account" in plan:
        assert re.search(r"Index Cond: \(id = ", plan), plan


def test_totals_are_what_they_were(app, users, make_account):
    seed(app, users, make_account, accounts=30)
    with app.app_context():
        for who in ("finance", "manager", "rep_a"):
            user = db.session.get(User, users[who])
            account_id = db.session.scalar(db.select(Receivable.account_id).limit(1))
            for filters in (services.Filters(), services.Filters(status="unpaid"),
                            *(services.Filters(status=status) for status in STATUSES),
                            services.Filters(due="week"),
                            services.Filters(account_id=account_id),
                            services.Filters(status="unpaid", account_id=account_id),
                            services.Filters(account="0"), services.Filters(q="NF 1")):
                shown = list(db.session.scalars(services.receivables_select(user, filters,
                                                                            TODAY)))
                amount = sum((r.amount for r in shown if not r.cancelled), Decimal("0.00"))
                paid = sum((p.amount for r in shown if not r.cancelled for p in r.payments),
                           Decimal("0.00"))
                assert services.receivables_totals(user, filters, TODAY) == {
                    "amount": amount, "paid": paid, "outstanding": amount - paid}, (who,
                                                                                  filters)


def test_a_deep_page_is_an_index_range_and_walks_every_row_once(
        app, client, users, make_account, monkeypatch):
    seed(app, users, make_account, accounts=30)
    monkeypatch.setitem(app.config, "ERP_PAGE_SIZE", 4)
    login_as(client, users["manager"])
    with app.app_context():
        manager = db.session.get(User, users["manager"])
        expected = [r.id for r in db.session.scalars(
            services.receivables_select(manager, services.Filters(), TODAY))]
    assert len(expected) > 12
    seen_ids, url = [], "/finance/"
    while url:
        with captured(app) as seen:
            html = client.get(url).get_data(as_text=True)
        seen_ids += [int(n) for n in re.findall(r'href="/finance/receivables/(\d+)"', html)]
        following = re.search(r'href="([^"]*after=[^"]*)" rel="next"', html)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert seen_ids == expected
    # The last page asked for was one after a cursor: its rows are an index range.
    [(sql, params)] = [(s, p) for s, p in seen if "ORDER BY finance_receivable.due_date" in s
                       and "LIMIT" in s]
    plan = explain(app, sql, params)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert re.search(r"SEARCH finance_receivable USING INDEX \w+ \(due_date>\?\)",
                             plan), plan
            assert "TEMP B-TREE" not in plan, plan
        else:
            assert re.search(r"Index Cond: .*due_date", plan), plan
            assert not full_scans(plan, "finance_receivable"), plan


@pytest.mark.parametrize("who", ["finance", "manager"])
def test_the_statements_do_not_grow_with_the_receivables(app, client, users, make_account,
                                                         who, monkeypatch):
    monkeypatch.setitem(app.config, "ERP_PAGE_SIZE", 5)
    login_as(client, users[who])
    seed(app, users, make_account, accounts=12, seed=3)
    few = queries_for(app, client, "/finance/")
    seed(app, users, make_account, accounts=60, seed=4)
    with app.app_context():  # more payments, on the receivables shown first
        for receivable in db.session.scalars(
                db.select(Receivable).order_by(Receivable.due_date).limit(20)):
            db.session.add(Payment(receivable_id=receivable.id,
                                   account_id=receivable.account_id,
                                   date=TODAY - timedelta(days=1), amount=Decimal("0.01"),
                                   method="pix"))
        db.session.commit()
    assert queries_for(app, client, "/finance/") == few
