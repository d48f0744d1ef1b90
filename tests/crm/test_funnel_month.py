"""The funnel report's monthly aggregate (crm 0022, issue 15).

* Kept by triggers: after any sequence of commands (create, edit the value, move, win,
  lose, reopen, change owner, archive, delete, bulk commands, account merges and their
  undo, stages renamed, reordered and deleted, the admin's form moving an opportunity to
  another month, raw SQL) and after an import, ``crm_funnel_month`` equals a recount from
  ``crm_opportunity``.
* The report reads the period's whole UTC months from it and only the partial edges from
  the opportunities, with the figures of the old computation (every opportunity of the
  period read) over random periods, viewer time zones (São Paulo, Kolkata at +05:30,
  UTC) and scopes.
* Structure: the opportunities the report reads are at most about a month's whatever
  the period's length, and the aggregate is read as a range of its key (plans on both
  databases).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask import g
from flask_login import login_user
from sqlalchemy import bindparam, select, text

from erp.auth.models import User
from erp.db import db, refresh_statistics
from erp.money import Money
from modules.crm.models import (
    STATUS_WON,
    Account,
    FunnelMonth,
    FunnelStayMonth,
    Opportunity,
    OpportunityStay,
    Stage,
)
from modules.crm.reports import funnel as report
from modules.crm.reports.filters import Filters
from modules.crm.services import bulk, history, merge, opportunities, settings
from tests.crm.plans import default_statistics, forget_statistics, full_scans, query_plan  # noqa: F401
from tests.crm.test_funnel_plans import _seed
from tests.erp.importing import import_dir_fixture  # noqa: F401 (the import_dir fixture)

ZONES = ("America/Sao_Paulo", "Asia/Kolkata", "UTC")


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def recount() -> dict:
    """From crm_opportunity, in Python: (stage, status, furthest or 0, month, owner or 0)
    -> (opportunities, value in cents, cycle days, cycles)."""
    counted = defaultdict(lambda: [0, 0, 0.0, 0])
    for o in db.session.scalars(select(Opportunity)):
        created = _naive_utc(o.created_at)
        key = (o.stage_id, o.status, o.furthest_stage_id or 0,
               date(created.year, created.month, 1), o.owner_id or 0)
        figures = counted[key]
        figures[0] += 1
        figures[1] += int(Decimal(o.estimated_value or 0) * 100)
        if o.cycle_days is not None:
            figures[2] += o.cycle_days
            figures[3] += 1
    return {key: tuple(figures) for key, figures in counted.items()}


def kept() -> dict:
    """crm_funnel_month in :func:`recount`'s shape; a key whose opportunities all left
    holds zeros (and is left out)."""
    rows = {}
    for row in db.session.scalars(select(FunnelMonth)):
        figures = (row.opportunities, row.value_cents, row.cycle_days, row.cycles)
        if row.opportunities == 0:
            assert (row.value_cents, row.cycles) == (0, 0), row
            assert row.cycle_days == pytest.approx(0.0, abs=1e-6), row
            continue
        rows[(row.stage_id, row.status, row.furthest_stage_id, row.month, row.owner_id)] = \
            figures
    return rows


def recount_stays() -> dict:
    """From crm_opportunity_stay, in Python: (stage, month, owner or 0) -> (stays, ended
    days, stays going on, their starts in days from the aggregate's origin)."""
    counted = defaultdict(lambda: [0, 0.0, 0, 0.0])
    for stay in db.session.scalars(select(OpportunityStay)):
        created = _naive_utc(stay.created_at)
        figures = counted[(stay.stage_id, date(created.year, created.month, 1),
                           stay.owner_id or 0)]
        figures[0] += 1
        figures[1] += stay.days or 0.0
        if stay.since is not None:
            figures[2] += 1
            figures[3] += (_naive_utc(stay.since) - datetime(2000, 1, 1)).total_seconds() / 86400
    return {key: tuple(figures) for key, figures in counted.items()}


def kept_stays() -> dict:
    rows = {}
    for row in db.session.scalars(select(FunnelStayMonth)):
        if row.stays == 0:
            assert row.ongoing == 0, row
            assert (row.days, row.since_days) == (pytest.approx(0.0, abs=1e-6),
                                                  pytest.approx(0.0, abs=1e-6)), row
            continue
        rows[(row.stage_id, row.month, row.owner_id)] = (row.stays, row.days, row.ongoing,
                                                         row.since_days)
    return rows


def assert_aggregate_is_the_recount(step: str) -> None:
    db.session.expire_all()
    expected, got = recount(), kept()
    assert got.keys() == expected.keys(), step
    for key, (count, cents, days, cycles) in expected.items():
        assert got[key][:2] == (count, cents), (step, key)
        assert got[key][3] == cycles, (step, key)
        assert got[key][2] == pytest.approx(days, abs=1e-6), (step, key)
    expected, got = recount_stays(), kept_stays()
    assert got.keys() == expected.keys(), step
    for key, (stays, days, ongoing, since_days) in expected.items():
        assert (got[key][0], got[key][2]) == (stays, ongoing), (step, key)
        assert got[key][1] == pytest.approx(days, abs=1e-6), (step, key)
        assert got[key][3] == pytest.approx(since_days, abs=1e-6), (step, key)


class Clock:
    def __init__(self, rng: random.Random):
        self.now, self.rng = datetime(2026, 1, 5, 9, tzinfo=UTC), rng

    def __call__(self) -> datetime:
        self.now += timedelta(hours=self.rng.randrange(1, 120))
        return self.now


@pytest.mark.parametrize("seed", [1, 2])
def test_the_aggregate_is_the_opportunities_after_any_commands(
        app, users, pipeline, make_account, monkeypatch, seed):
    rng = random.Random(seed)  # noqa: S311 - test data
    clock = Clock(rng)
    for module in (history, opportunities, bulk):
        monkeypatch.setattr(module, "utcnow", clock)
    monkeypatch.setitem(app.config, "CRM_MAX_STAGES", 8)  # the app outlives the test
    accounts = [make_account(owner="admin", legal_name=f"Conta {n} Ltda.") for n in range(4)]
    owners = [users[name] for name in ("admin", "manager", "rep_a", "rep_b")]
    reasons = list(pipeline["reasons"].values())
    with app.app_context(), app.test_request_context():
        admin = db.session.get(User, users["admin"])

        def stage_ids() -> list[int]:
            return list(db.session.scalars(select(Stage.id).order_by(Stage.sequence, Stage.id)))

        def some(count: int = 1) -> list[Opportunity]:
            rows = list(db.session.scalars(select(Opportunity).order_by(Opportunity.id)))
            return rng.sample(rows, min(count, len(rows)))

        def items() -> list[dict]:
            return [{"description": f"Item {n}", "quantity": str(rng.randrange(1, 5)),
                     "unit_price": f"{rng.randrange(0, 99999)},{rng.randrange(100):02d}"}
                    for n in range(rng.randrange(0, 3))]

        def create():
            opportunities.create_opportunity(
                {"account_id": rng.choice(accounts), "title": f"Op {clock.now:%d%H}",
                 "stage_id": rng.choice(stage_ids()), "owner_id": rng.choice(owners),
                 "items": items()}, user=admin)

        def move():
            (opportunity,) = some()
            if opportunity.is_open:
                opportunities.move_to_stage(opportunity, rng.choice(stage_ids()), user=admin)

        def close():
            (opportunity,) = some()
            if rng.random() < 0.5:
                opportunities.mark_won(opportunity, user=admin)
            elif opportunity.status != "lost":
                opportunities.mark_lost(opportunity, user=admin,
                                        loss_reason_id=rng.choice(reasons))

        def reopen():
            (opportunity,) = some()
            opportunities.reopen(opportunity, user=admin)

        def edit():  # value, stage and/or owner through the form's service
            (opportunity,) = some()
            data = {"items": items()}
            if rng.random() < 0.5:
                data["stage_id"] = rng.choice(stage_ids())
            if rng.random() < 0.5:
                data["owner_id"] = rng.choice(owners)
            opportunities.update_opportunity(opportunity, data, user=admin)

        def bulk_change():
            ids = [o.id for o in some(3)]
            action = rng.choice(("stage", "assign", "lost", "archive", "unarchive", "delete"))
            params = {"stage": {"stage_id": rng.choice(stage_ids())},
                      "assign": {"owner_id": rng.choice(owners)},
                      "lost": {"loss_reason_id": rng.choice(reasons)}}.get(action, {})
            bulk.bulk_apply(ids, action, user=admin, **params)

        def delete():  # its stays go with it (the key's cascade)
            (opportunity,) = some()
            bulk.bulk_apply([opportunity.id], "delete", user=admin)

        def merge_accounts():  # the opportunities move to the survivor; sometimes undone
            survivor, merged = rng.sample(accounts, 2)
            survivor, merged = (db.session.get(Account, i) for i in (survivor, merged))
            if merged.archived or survivor.archived:
                return
            log = merge.merge("account", survivor, merged, {}, admin)
            if rng.random() < 0.5:
                merge.undo(log, admin)

        def rename():
            stage = db.session.get(Stage, rng.choice(stage_ids()))
            settings.save_stage({"name": f"{stage.name} ({rng.randrange(100)})"}, stage)

        def reorder():  # every opportunity's furthest stage recomputed (refresh_furthest)
            stage = db.session.get(Stage, rng.choice(stage_ids()))
            settings.save_stage({"name": stage.name, "sequence": str(rng.randrange(1, 99))},
                                stage)

        def delete_stage():
            ids = stage_ids()
            if len(ids) < 3:
                settings.save_stage({"name": f"Nova {rng.randrange(1000)}"})
                return
            stage = db.session.get(Stage, rng.choice(ids))
            settings.delete_stage(stage, db.session.get(
                Stage, rng.choice([i for i in ids if i != stage.id])))

        def by_hand():  # the admin's form: another month, owner, status, summary columns
            (opportunity,) = some()
            choice = rng.random()
            if choice < 0.4:
                opportunity.created_at = datetime(2025, rng.randrange(1, 13),
                                                  rng.randrange(1, 29), rng.randrange(24),
                                                  tzinfo=UTC)
            elif choice < 0.6:
                opportunity.owner_id = rng.choice(owners)
            elif choice < 0.8:
                opportunity.cycle_days = 1.5
            else:
                opportunity.status, opportunity.closed_at = STATUS_WON, clock()

        def raw_sql():  # no session, no service: the triggers alone
            (opportunity,) = some()
            db.session.execute(text(
                "UPDATE crm_opportunity SET estimated_value = :value, status = :status "
                "WHERE id = :id").bindparams(bindparam("value", type_=Money)),
                {"value": Decimal(rng.randrange(0, 10**6)) / 100,
                 "status": rng.choice(("open", "won", "lost")), "id": opportunity.id})

        for _n in range(8):
            create()
        assert_aggregate_is_the_recount("created")
        commands = ([create] * 3 + [move] * 4 + [close] * 3 + [reopen] * 2 + [edit] * 3
                    + [bulk_change] * 3 + [delete, merge_accounts, by_hand, by_hand, raw_sql]
                    + [rename, reorder, delete_stage])
        # Each command once, then a random sequence.
        sequence = rng.sample(sorted(set(commands), key=lambda c: c.__name__),
                              len(set(commands)))
        sequence += [rng.choice(commands) for _n in range(45)]
        for step, command in enumerate(sequence):
            command()
            db.session.commit()
            assert_aggregate_is_the_recount(f"step {step}: {command.__name__}")
        assert len({key[3] for key in kept()}) > 1  # several months


def test_the_apis_writes_are_counted(app, users, pipeline, api_client, make_account):
    """Created, edited (value, stage, owner), moved, lost, reopened, won and archived
    through the API (which deletes none): the aggregate follows each step."""
    api = api_client("manager")
    account = make_account("rep_a", legal_name="Conta API Ltda.")
    created = api.post("/opportunities", json={
        "title": "Pela API", "account_id": account, "owner_id": users["rep_a"],
        "items": [{"description": "Licenças", "quantity": "3", "unit_price": "1234.56"}]})
    assert created.status_code == 201, created.json
    url = f"/opportunities/{created.json['id']}"
    reason = next(iter(pipeline["reasons"].values()))
    steps = [("patch", url, {"version": 1, "owner_id": users["rep_b"],
                             "stage_id": pipeline["stages"]["Negociação"],
                             "items": [{"description": "Uma", "unit_price": "99.90"}]}),
             ("post", f"{url}/stage", {"stage_id": pipeline["stages"]["Prospecção"]}),
             ("post", f"{url}/lost", {"loss_reason_id": reason}),
             ("post", f"{url}/reopen", None), ("post", f"{url}/won", None),
             ("post", f"{url}/archive", None)]
    with app.app_context():
        assert_aggregate_is_the_recount("created")
        for method, path, body in steps:
            response = getattr(api, method)(path, **({"json": body} if body else {}))
            assert response.status_code == 200, (path, response.json)
            assert_aggregate_is_the_recount(path)
        db.session.remove()


@pytest.mark.usefixtures("import_dir")
def test_imported_opportunities_are_counted(app, users, pipeline, make_account):
    """The import flushes a batch of opportunities at a time (an executemany INSERT):
    the triggers count each row."""
    from erp.imports.models import DONE
    from tests.erp.importing import csv_bytes, run_import

    make_account("rep_a", legal_name="Acme Ltda")
    rows = [["Título", "Conta", "Etapa", "Responsável"]]
    rows += [[f"Op {n}", "Acme Ltda", ("negociação", "")[n % 2],
              ("rep_b@example.com", "")[n % 3 == 0]] for n in range(30)]
    result = run_import(app, users["manager"], "opportunities", csv_bytes(rows))
    assert (result.status, result.created) == (DONE, 30)
    with app.app_context():
        assert_aggregate_is_the_recount("imported")
        assert sum(r.opportunities for r in db.session.scalars(select(FunnelMonth))) == 30


# --- the report: the old computation's figures ---------------------------------------------


def _everything_from_opportunities(start_at, end_before):
    """The old split: the whole period read from crm_opportunity."""
    return report.PeriodParts(None, [(start_at, end_before, 1)])


def _as(user: User, zone: str) -> None:
    """The request's user, in ``zone`` (Flask-Babel's choice is cached on ``g``, which
    outlives a request context pushed inside an app context: forgotten here)."""
    user.timezone = zone
    login_user(user)
    g.pop("_flask_babel", None)


def _report(app, users, who: str, zone: str, filters: Filters, *, old: bool):
    """The report as ``who`` sees it in ``zone``."""
    with app.test_request_context("/crm/reports/funnel"):
        user = db.session.get(User, users[who])
        _as(user, zone)
        real = report.period_parts
        if old:
            report.period_parts = _everything_from_opportunities
        try:
            return report.funnel_report(user, filters, datetime(2027, 1, 15, tzinfo=UTC))
        finally:
            report.period_parts = real
            g.pop("_flask_babel", None)
            db.session.rollback()  # the time zone is the request's, not saved


@pytest.fixture
def accounts(make_account):
    return [make_account(owner=owner, legal_name=f"Conta {owner} Ltda.")
            for owner in ("rep_a", "rep_b", "rep_c")]


def _periods(rng: random.Random) -> list[tuple[date, date]]:
    """Inside one month, across months, whole months, whole years, edges on the first
    and last days, and random ones over the seeded two years."""
    periods = [(date(2025, 3, 10), date(2025, 3, 20)), (date(2025, 3, 1), date(2025, 3, 31)),
               (date(2025, 1, 31), date(2025, 2, 1)), (date(2025, 1, 1), date(2025, 12, 31)),
               (date(2025, 1, 1), date(2026, 12, 31)), (date(2025, 2, 15), date(2026, 7, 14)),
               (date(2025, 12, 31), date(2026, 1, 1)), (date(2026, 6, 30), date(2026, 6, 30))]
    for _n in range(6):
        start = date(2025, 1, 1) + timedelta(days=rng.randrange(730))
        periods.append((start, start + timedelta(days=rng.choice((0, 5, 40, 200, 500)))))
    return periods


@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_report_figures_are_the_old_computations(app, users, pipeline, accounts, who):
    _seed(app, users, pipeline, accounts, 500)
    rng = random.Random(who)  # noqa: S311 - test data
    with app.app_context():
        for start, end in _periods(rng):
            for zone in ZONES:
                for owner in (None, users["rep_a"]):
                    filters = Filters(start=start, end=end, user_id=owner)
                    new = _report(app, users, who, zone, filters, old=False)
                    old = _report(app, users, who, zone, filters, old=True)
                    assert new == old, (start, end, zone, owner)
        # A team filter, and the seed did reach the report.
        team = db.session.get(User, users["rep_a"]).team_id
        filters = Filters(start=date(2025, 1, 1), end=date(2026, 12, 31), team_id=team)
        new = _report(app, users, who, "America/Sao_Paulo", filters, old=False)
        assert new == _report(app, users, who, "America/Sao_Paulo", filters, old=True)
        assert new.created > 0


# --- structure: what the report reads ------------------------------------------------------


def _created_ranges(statement, table: str) -> list[tuple[datetime, datetime]]:
    """The created_at ranges the statement reads ``table`` by."""
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    starts = re.findall(rf"\b{table}\.created_at >= '([^']+)'", sql)
    ends = re.findall(rf"\b{table}\.created_at < '([^']+)'", sql)
    assert len(starts) == len(ends)

    def moment(value: str) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=None)

    return [(moment(a), moment(b)) for a, b in zip(starts, ends, strict=True)]


@pytest.mark.parametrize("zone", ZONES)
def test_the_opportunities_read_do_not_grow_with_the_months(app, users, pipeline, zone):
    """However many whole months the period has, the report reads crm_opportunity over
    at most about a month (its partial edges, each the shorter way); on the old code a
    year's period read the whole year's opportunities."""
    with app.app_context(), app.test_request_context("/crm/reports/funnel"):
        user = db.session.get(User, users["admin"])
        _as(user, zone)
        ordered = db.session.execute(select(Stage.id, Stage.name)).all()
        for start, days in ((date(2025, 1, 1), 364), (date(2024, 5, 17), 1000),
                            (date(2025, 2, 3), 3000), (date(2026, 1, 1), 333),
                            (date(2026, 3, 15), 30)):
            filters = Filters(start=start, end=start + timedelta(days=days))
            parts = report.period_parts(filters.start_at, filters.end_before)
            assert parts.months, filters
            assert parts.read_from_opportunities <= timedelta(days=31), (filters, parts)
            for statement, table in (
                    (report.groups_select(user, filters, ordered), "crm_opportunity"),
                    (report.days_select(user, filters, [s.id for s in ordered],
                                        datetime(2027, 1, 1, tzinfo=UTC)),
                     "crm_opportunity_stay")):
                ranges = _created_ranges(statement, table)
                read = sum(((b - a) for a, b in set(ranges)), timedelta())
                assert read <= timedelta(days=31), (filters, table, ranges)
        g.pop("_flask_babel", None)
        db.session.rollback()


def test_the_periods_parts_add_up_to_the_period():
    """Whole months plus the edges (added or taken away) cover [start, end) once."""
    rng = random.Random(22)  # noqa: S311 - test data
    for _n in range(300):
        start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(10**6))
        end = start + timedelta(minutes=rng.choice((1, 60, 1440 * 20, rng.randrange(10**6))))
        parts = report.period_parts(start, end)
        # Each hour between, counted by the parts, is in the period exactly once.
        probes = [start - timedelta(hours=30), end + timedelta(hours=30)]
        probes += [start + (end - start) * rng.random() for _p in range(20)]
        probes += [start, end - timedelta(microseconds=1), end]
        for moment in probes:
            count = 0
            if parts.months:
                first, after = parts.months
                count += first <= moment.date() < after  # months are whole days in UTC
            count += sum(sign for a, b, sign in parts.ranges if a <= moment < b)
            assert count == (1 if start <= moment < end else 0), (start, end, moment, parts)


@pytest.fixture
def statistics(app):
    yield
    with app.app_context():
        forget_statistics()


@pytest.mark.usefixtures("default_statistics", "statistics")
@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_the_aggregate_is_read_as_a_range_of_its_key(app, users, pipeline, accounts, who):
    """The whole months: a month range of crm_funnel_month's key, no scan of it; the
    edges: created_at ranges of crm_opportunity's index, no scan of it."""
    _seed(app, users, pipeline, accounts, 1500)
    year = Filters(start=date(2025, 1, 1), end=date(2025, 12, 31))
    with app.app_context():
        for analysed in (False, True):
            if analysed:
                refresh_statistics()
            if not (analysed or db.engine.dialect.name == "sqlite"):
                continue
            with app.test_request_context("/crm/reports/funnel"):
                user = db.session.get(User, users[who])
                ordered = db.session.execute(select(Stage.id, Stage.name)
                                             .order_by(Stage.sequence, Stage.id)).all()
                statements = (
                    (report.groups_select(user, year, ordered), "crm_funnel_month",
                     "crm_opportunity"),
                    (report.days_select(user, year, [s.id for s in ordered],
                                        datetime(2027, 1, 1, tzinfo=UTC)),
                     "crm_funnel_stay_month", "crm_opportunity_stay"))
                plans = [(query_plan(statement), aggregate, source)
                         for statement, aggregate, source in statements]
            for plan, aggregate, source in plans:
                assert not full_scans(plan, aggregate), plan
                assert not full_scans(plan, source), plan
                if db.engine.dialect.name == "sqlite":
                    assert re.search(rf"SEARCH {aggregate} USING .*month>\? AND month<\?",
                                     plan), plan
                else:
                    assert re.search(rf"on {aggregate}\b.*?Index Cond: [^\n]*month >= "
                                     r"[^\n]*month < ", plan, re.S), plan
