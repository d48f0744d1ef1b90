"""The loss reasons report's monthly aggregate (crm 0024, issue 15).

* Kept by triggers: after the funnel aggregate's random commands (create, edit the value,
  move, win, lose, reopen, change owner, archive, delete, bulk commands, merges, stages
  deleted, the admin's form, raw SQL), the API's writes and an import, ``crm_loss_month``
  equals a recount of the lost opportunities (the funnel test's commands run here with
  this check added to its own, not copied).
* The report reads the period's whole UTC months from it and only the partial edges from
  the opportunities, with the old statement's figures (every loss of the period read)
  over random periods, viewer time zones and scopes, owner and team filters.
* Structure: the opportunities read are at most about a month's whatever the period,
  and the aggregate is read as a month range of its key (plans on both databases).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import select

from erp.auth.models import User
from erp.db import db, refresh_statistics
from modules.crm.models import STATUS_LOST, LossMonth, Opportunity
from modules.crm.reports import funnel as funnel_report
from modules.crm.reports import losses as report
from modules.crm.reports.filters import Filters
from tests.crm import test_funnel_month as funnel_month
from tests.crm.plans import default_statistics, forget_statistics, full_scans, query_plan  # noqa: F401
from tests.crm.test_funnel_month import ZONES, _as, _naive_utc, _periods
from tests.crm.test_funnel_plans import _seed
from tests.erp.importing import import_dir_fixture  # noqa: F401 (the import_dir fixture)


def recount() -> dict:
    """From crm_opportunity, in Python: (month closed in UTC, owner, reason, stage where
    lost; 0 for none) -> (lost, value in cents), of the lost ones."""
    counted = defaultdict(lambda: [0, 0])
    for o in db.session.scalars(select(Opportunity).where(Opportunity.status == STATUS_LOST)):
        if o.closed_at is None:
            continue
        closed = _naive_utc(o.closed_at)
        figures = counted[(date(closed.year, closed.month, 1), o.owner_id or 0,
                           o.loss_reason_id or 0, o.lost_stage_id or 0)]
        figures[0] += 1
        figures[1] += int(Decimal(o.estimated_value or 0) * 100)
    return {key: tuple(figures) for key, figures in counted.items()}


def kept() -> dict:
    rows = {}
    for row in db.session.scalars(select(LossMonth)):
        if row.lost == 0:
            assert row.value_cents == 0, row
            continue
        rows[(row.month, row.owner_id, row.loss_reason_id, row.lost_stage_id)] = (
            row.lost, row.value_cents)
    return rows


def assert_losses_are_the_recount(step: str) -> None:
    db.session.expire_all()
    assert kept() == recount(), step


@pytest.fixture
def also_the_losses(monkeypatch):
    """The funnel aggregate's tests check crm_loss_month too, after each step."""
    funnel_check = funnel_month.assert_aggregate_is_the_recount

    def both(step: str) -> None:
        funnel_check(step)
        assert_losses_are_the_recount(step)

    monkeypatch.setattr(funnel_month, "assert_aggregate_is_the_recount", both)


@pytest.mark.usefixtures("also_the_losses")
@pytest.mark.parametrize("seed", [3, 4])  # (their sequences span several months)
def test_the_aggregate_is_the_losses_after_any_commands(
        app, users, pipeline, make_account, monkeypatch, seed):
    funnel_month.test_the_aggregate_is_the_opportunities_after_any_commands(
        app, users, pipeline, make_account, monkeypatch, seed)
    with app.app_context():
        assert kept()  # some losses were left to count


@pytest.mark.usefixtures("also_the_losses")
def test_the_apis_writes_are_counted(app, users, pipeline, api_client, make_account):
    funnel_month.test_the_apis_writes_are_counted(app, users, pipeline, api_client,
                                                  make_account)


@pytest.mark.usefixtures("also_the_losses", "import_dir")
def test_imported_opportunities_are_counted(app, users, pipeline, make_account):
    funnel_month.test_imported_opportunities_are_counted(app, users, pipeline, make_account)


# --- the report: the old statement's figures ------------------------------------------------


@pytest.fixture
def accounts(make_account):
    return [make_account(owner=owner, legal_name=f"Conta {owner} Ltda.")
            for owner in ("rep_a", "rep_b", "rep_c")]


def _seeded(app, users, pipeline, accounts, count: int) -> None:
    """The funnel tests' seed, with reasons given to most of the losses and none, or a
    lost stage unknown, to some."""
    _seed(app, users, pipeline, accounts, count)
    reasons = list(pipeline["reasons"].values())
    with app.app_context():
        lost = db.session.scalars(select(Opportunity)
                                  .where(Opportunity.status == STATUS_LOST)).all()
        for n, opportunity in enumerate(lost):
            opportunity.loss_reason_id = None if n % 7 == 0 else reasons[n % len(reasons)]
            if n % 13 == 0:
                opportunity.lost_stage_id = None
        db.session.commit()
        assert_losses_are_the_recount("seeded")


def _everything_from_opportunities(start_at, end_before):
    """The old statement: the whole period read from crm_opportunity."""
    return funnel_report.PeriodParts(None, [(start_at, end_before, 1)])


def _report(app, users, who: str, zone: str, filters: Filters, *, old: bool):
    with app.test_request_context("/crm/reports/losses"):
        user = db.session.get(User, users[who])
        _as(user, zone)
        real = report.period_parts
        if old:
            report.period_parts = _everything_from_opportunities
        try:
            return report.losses_report(user, filters)
        finally:
            report.period_parts = real
            g.pop("_flask_babel", None)
            db.session.rollback()  # the time zone is the request's, not saved


@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_report_figures_are_the_old_statements(app, users, pipeline, accounts, who):
    _seeded(app, users, pipeline, accounts, 600)
    rng = random.Random(who)  # noqa: S311 - test data
    with app.app_context():
        for start, end in _periods(rng):
            for zone in ZONES:
                for owner in (None, users["rep_a"]):
                    filters = Filters(start=start, end=end, user_id=owner)
                    new = _report(app, users, who, zone, filters, old=False)
                    old = _report(app, users, who, zone, filters, old=True)
                    assert new == old, (start, end, zone, owner)
        team = db.session.get(User, users["rep_a"]).team_id
        filters = Filters(start=date(2025, 1, 1), end=date(2026, 12, 31), team_id=team)
        new = _report(app, users, who, "America/Sao_Paulo", filters, old=False)
        assert new == _report(app, users, who, "America/Sao_Paulo", filters, old=True)
        assert new.lost > 0
        assert any(line.key is None for line in new.by_reason)


# --- structure: what the report reads ------------------------------------------------------


def _closed_ranges(statement) -> list[tuple[datetime, datetime]]:
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    starts = re.findall(r"\bcrm_opportunity\.closed_at >= '([^']+)'", sql)
    ends = re.findall(r"\bcrm_opportunity\.closed_at < '([^']+)'", sql)
    assert len(starts) == len(ends)

    def moment(value: str) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=None)

    return [(moment(a), moment(b)) for a, b in zip(starts, ends, strict=True)]


@pytest.mark.parametrize("zone", ZONES)
def test_the_losses_read_do_not_grow_with_the_months(app, users, pipeline, zone):
    """However many whole months the period has, the report reads crm_opportunity over at
    most about a month (its edges); on the old statement a year's period read the year."""
    with app.app_context(), app.test_request_context("/crm/reports/losses"):
        user = db.session.get(User, users["admin"])
        _as(user, zone)
        for start, days in ((date(2025, 1, 1), 364), (date(2024, 5, 17), 1000),
                            (date(2025, 2, 3), 3000), (date(2026, 1, 1), 333)):
            filters = Filters(start=start, end=start + timedelta(days=days))
            ranges = _closed_ranges(report.losses_select(user, filters))
            read = sum(((b - a) for a, b in set(ranges)), timedelta())
            assert read <= timedelta(days=31), (filters, ranges)
        g.pop("_flask_babel", None)
        db.session.rollback()


@pytest.fixture
def statistics(app):
    yield
    with app.app_context():
        forget_statistics()


@pytest.mark.usefixtures("default_statistics", "statistics")
@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_the_aggregate_is_read_as_a_range_of_its_key(app, users, pipeline, accounts, who):
    """The whole months: a month range of crm_loss_month's key, no scan of it; the edges:
    closed_at ranges of crm_opportunity's index, no scan of it."""
    _seeded(app, users, pipeline, accounts, 1500)
    year = Filters(start=date(2025, 1, 1), end=date(2025, 12, 31))
    with app.app_context():
        for analysed in (False, True):
            if analysed:
                refresh_statistics()
            if not (analysed or db.engine.dialect.name == "sqlite"):
                continue
            with app.test_request_context("/crm/reports/losses"):
                user = db.session.get(User, users[who])
                plan = query_plan(report.losses_select(user, year))
            assert not full_scans(plan, "crm_loss_month"), plan
            assert not full_scans(plan, "crm_opportunity"), plan
            if db.engine.dialect.name == "sqlite":
                assert re.search(r"SEARCH crm_loss_month USING .*\(month>\? AND month<\?",
                                 plan), plan
                assert all("closed_at>? AND closed_at<?" in line
                           for line in plan.splitlines() if "crm_opportunity" in line), plan
            else:
                assert re.search(r"on crm_loss_month\b.*?Index Cond: [^\n]*month >= "
                                 r"[^\n]*month < ", plan, re.S), plan


def test_a_lost_opportunity_moves_with_its_closing(app, users, pipeline, make_account):
    """Reopened: out of its month; lost again later: in the new month; its value, reason
    and owner edited while lost: moved with them (the update trigger's columns)."""
    from modules.crm.services import opportunities

    account = make_account(owner="rep_a", legal_name="Perdas Ltda.")
    reasons = list(pipeline["reasons"].values())
    with app.app_context(), app.test_request_context():
        admin = db.session.get(User, users["admin"])
        opportunity = opportunities.create_opportunity(
            {"account_id": account, "title": "Vai e volta", "owner_id": users["rep_a"],
             "items": [{"description": "Uma", "unit_price": "10,00"}]}, user=admin)
        db.session.commit()
        opportunities.mark_lost(opportunity, user=admin, loss_reason_id=reasons[0])
        db.session.commit()
        assert_losses_are_the_recount("lost")
        assert sum(lost for lost, _cents in kept().values()) == 1
        opportunities.reopen(opportunity, user=admin)
        db.session.commit()
        assert kept() == {} == recount()
        opportunities.mark_lost(opportunity, user=admin, loss_reason_id=reasons[1])
        opportunity.closed_at = datetime(2025, 3, 31, 23, 59, tzinfo=UTC)
        db.session.commit()
        assert_losses_are_the_recount("lost again, in March")
        opportunity.owner_id, opportunity.loss_reason_id = users["rep_b"], None
        opportunity.estimated_value = Decimal("12.34")
        db.session.commit()
        assert_losses_are_the_recount("edited while lost")
        assert list(kept()) == [(date(2025, 3, 1), users["rep_b"], 0,
                                 opportunity.lost_stage_id or 0)]
