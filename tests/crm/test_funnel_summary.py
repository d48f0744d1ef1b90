"""The funnel report's summary of the history (crm 0012, issue 15): after any sequence of
commands — create, move, win, lose, reopen, edit stage and owner, bulk move / assign /
lose, and stages renamed, reordered, deleted and created again under an old name — each
opportunity's furthest stage and stays equal what a recount in Python of its history
gives, and the report (which reads only the summary) shows the recount's figures: days
in stage included. Its statements never read the history."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from erp.auth.models import User
from erp.db import db
from modules.crm.models import (
    STATUS_OPEN,
    STATUS_WON,
    Opportunity,
    OpportunityChange,
    OpportunityStay,
    Stage,
)
from modules.crm.reports import funnel as report
from modules.crm.reports.filters import Filters
from modules.crm.services import bulk, history, opportunities, settings
from tests.erp.importing import import_dir_fixture  # noqa: F401 (the import_dir fixture)
from tests.reporting import captured

STAGE_FIELDS = ("created", "stage")
EVERYTHING = Filters(start=date(2000, 1, 1), end=date(2099, 12, 31))


def _naive(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def recount() -> tuple[dict, dict]:
    """From the history alone, by the report's definitions: opportunity id -> furthest
    stage id (None if its rows name no stage of today's funnel), and (opportunity id,
    stage id) -> (days of the ended stays while open, start of the one going on); also
    (opportunity id, "cycle") -> (its cycle in days, None) for the won ones. Rows name
    their stage by id (crm 0018): a renamed stage keeps them, a deleted one's are NULL."""
    stages = db.session.scalars(select(Stage.id).order_by(Stage.sequence, Stage.id)).all()
    position = {stage_id: (index, stage_id) for index, stage_id in enumerate(stages)}
    rows = defaultdict(list)
    for change in db.session.scalars(select(OpportunityChange).where(
            OpportunityChange.field.in_((*STAGE_FIELDS, "status")))
            .order_by(OpportunityChange.opportunity_id, OpportunityChange.at,
                      OpportunityChange.id)):
        rows[change.opportunity_id].append(change)
    furthest, stays = {}, {}
    for opportunity in db.session.scalars(select(Opportunity)):
        opportunity_id = opportunity.id
        if opportunity.status == STATUS_WON and opportunity.closed_at:  # its cycle, in days
            stays[(opportunity_id, "cycle")] = ((_naive(opportunity.closed_at) - _naive(
                opportunity.created_at)).total_seconds() / 86400, None)
        events = rows.get(opportunity_id, [])
        named = [position[e.stage_id] for e in events
                 if e.field in STAGE_FIELDS and e.stage_id in position]
        furthest[opportunity_id] = max(named)[1] if named else None
        stage = status = None
        for index, event in enumerate(events):
            if event.field in STAGE_FIELDS:
                stage = event.stage_id
            else:
                status = event.new_value
            if stage is None or status not in (None, STATUS_OPEN):
                continue
            days, since = stays.get((opportunity_id, stage), (0.0, None))
            if index + 1 < len(events):
                days += (_naive(events[index + 1].at) - _naive(event.at)).total_seconds() / 86400
            else:
                since = _naive(event.at)
            stays[(opportunity_id, stage)] = (days, since)
    return furthest, stays


def kept() -> tuple[dict, dict]:
    """The summary as the database holds it, in :func:`recount`'s shape."""
    furthest = dict(db.session.execute(
        select(Opportunity.id, Opportunity.furthest_stage_id)).all())
    stays = {}  # and each won opportunity's cycle, under (id, "cycle")
    owners = dict(db.session.execute(select(Opportunity.id, Opportunity.owner_id)).all())
    created = dict(db.session.execute(select(Opportunity.id, Opportunity.created_at)).all())
    for opportunity_id, cycle in db.session.execute(
            select(Opportunity.id, Opportunity.cycle_days)
            .where(Opportunity.cycle_days.is_not(None))):
        stays[(opportunity_id, "cycle")] = (cycle, None)
    for stay in db.session.scalars(select(OpportunityStay)):
        # The copies the report filters on are the opportunity's.
        assert stay.owner_id == owners[stay.opportunity_id]
        assert _naive(stay.created_at) == _naive(created[stay.opportunity_id])
        stays[(stay.opportunity_id, stay.stage_id)] = (stay.days, _naive(stay.since))
    return furthest, stays


def assert_summary_is_the_historys(step: str) -> None:
    db.session.expire_all()
    expected_furthest, expected_stays = recount()
    furthest, stays = kept()
    assert furthest == expected_furthest, step
    assert stays.keys() == expected_stays.keys(), step
    for key, (days, since) in expected_stays.items():
        assert stays[key][0] == pytest.approx(days, abs=1e-6), (step, key)
        assert stays[key][1] == since, (step, key)


def recount_days(as_of: datetime) -> dict[int, Decimal]:
    """Average days in each stage of today's funnel (by id), over every opportunity, from
    the recount: a stay counts for its stage, whatever its name was then."""
    _furthest, stays = recount()
    names = set(db.session.scalars(select(Stage.id)))
    totals, counts = defaultdict(float), defaultdict(int)
    for (_opportunity, name), (days, since) in stays.items():
        if name in names:
            ongoing = (_naive(as_of) - since).total_seconds() / 86400 if since else 0.0
            totals[name] += days + ongoing
            counts[name] += 1
    return {name: report._tenth(totals[name] / counts[name]) for name in totals}


class Clock:
    """utcnow() for the services: hours apart, so stays last days."""

    def __init__(self, rng: random.Random):
        self.now, self.rng = datetime(2026, 1, 5, 9, tzinfo=UTC), rng

    def __call__(self) -> datetime:
        self.now += timedelta(hours=self.rng.randrange(1, 120))
        return self.now


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_summary_is_the_historys_after_any_commands(app, users, pipeline, make_account,
                                                       monkeypatch, seed):
    rng = random.Random(seed)  # noqa: S311 - test data
    clock = Clock(rng)
    for module in (history, opportunities, bulk):
        monkeypatch.setattr(module, "utcnow", clock)
    monkeypatch.setitem(app.config, "CRM_MAX_STAGES", 8)  # the app outlives the test
    accounts = [make_account(owner="admin", legal_name=f"Conta {n} Ltda.") for n in range(3)]
    owners = [users[name] for name in ("admin", "manager", "rep_a", "rep_b")]
    reasons = list(pipeline["reasons"].values())
    with app.app_context(), app.test_request_context():
        admin = db.session.get(User, users["admin"])

        def stage_ids() -> list[int]:
            return list(db.session.scalars(select(Stage.id).order_by(Stage.sequence, Stage.id)))

        def some(count: int = 1) -> list[Opportunity]:
            rows = list(db.session.scalars(select(Opportunity).order_by(Opportunity.id)))
            return rng.sample(rows, min(count, len(rows)))

        def create():
            opportunities.create_opportunity(
                {"account_id": rng.choice(accounts), "title": f"Op {clock.now:%d%H}",
                 "stage_id": rng.choice(stage_ids()), "owner_id": rng.choice(owners)},
                user=admin)

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

        def edit():  # stage and/or owner through the form's service, open or closed
            (opportunity,) = some()
            data = {}
            if rng.random() < 0.7:
                data["stage_id"] = rng.choice(stage_ids())
            if rng.random() < 0.5:
                data["owner_id"] = rng.choice(owners)
            opportunities.update_opportunity(opportunity, data, user=admin)

        def bulk_change():
            ids = [o.id for o in some(3)]
            action = rng.choice(("stage", "assign", "lost"))
            params = {"stage": {"stage_id": rng.choice(stage_ids())},
                      "assign": {"owner_id": rng.choice(owners)},
                      "lost": {"loss_reason_id": rng.choice(reasons)}}[action]
            bulk.bulk_apply(ids, action, user=admin, **params)

        def rename():
            stage = db.session.get(Stage, rng.choice(stage_ids()))
            settings.save_stage({"name": f"{stage.name} ({rng.randrange(100)})"}, stage)

        def reorder():
            stage = db.session.get(Stage, rng.choice(stage_ids()))
            settings.save_stage({"name": stage.name, "sequence": str(rng.randrange(1, 99))},
                                stage)

        def delete_and_recreate():
            ids = stage_ids()
            if len(ids) < 2:
                return
            stage = db.session.get(Stage, rng.choice(ids))
            name = stage.name
            settings.delete_stage(stage, db.session.get(
                Stage, rng.choice([i for i in ids if i != stage.id])))
            if rng.random() < 0.7:  # a new stage, old name: old rows (by id) do not name it
                settings.save_stage({"name": name})

        def by_hand():  # the admin's form: no history row, and a summary column too
            (opportunity,) = some()
            choice = rng.random()
            if choice < 0.3:
                opportunity.owner_id = rng.choice(owners)
            elif choice < 0.6:
                opportunity.furthest_stage_id = rng.choice(stage_ids())
            elif choice < 0.8:
                opportunity.cycle_days = 1.5
            else:  # won by hand, closed a day after now
                opportunity.status, opportunity.closed_at = STATUS_WON, clock()

        for _n in range(6):
            create()
        assert_summary_is_the_historys("created")
        commands = ([move] * 6 + [close] * 3 + [reopen] * 2 + [edit] * 3 + [bulk_change] * 2
                    + [create, by_hand] + [rename, reorder, delete_and_recreate])
        for step in range(60):
            command = rng.choice(commands)
            command()
            db.session.commit()
            assert_summary_is_the_historys(f"step {step}: {command.__name__}")

        as_of = clock() + timedelta(days=3)
        got = report.funnel_report(admin, EVERYTHING, as_of)
        days = recount_days(as_of)
        assert {s.stage_id: s.average_days for s in got.stages} == {
            stage_id: days.get(stage_id) for stage_id in db.session.scalars(
                select(Stage.id).order_by(Stage.sequence, Stage.id))}
        # Reached, from the furthest stage, the current one and the status.
        furthest, _stays = recount()
        order = stage_ids()
        every = list(db.session.scalars(select(Opportunity)))
        for index, stage in enumerate(got.stages):
            reached = [o for o in every if o.status == STATUS_WON or max(
                order.index(o.stage_id),
                order.index(furthest[o.id]) if furthest[o.id] else -1) >= index]
            assert stage.reached == len(reached), stage.name


def test_deleting_an_opportunity_deletes_its_stays(app, users, pipeline, make_account,
                                                   make_opportunity):
    opportunity_id = make_opportunity(make_account(owner="rep_a"))
    with app.app_context():
        assert db.session.scalar(select(OpportunityStay.stage_id).where(
            OpportunityStay.opportunity_id == opportunity_id)) == pipeline["stages"][
                "Prospecção"]
        bulk.bulk_apply([opportunity_id], "delete", user=db.session.get(User, users["admin"]))
        assert db.session.scalars(select(OpportunityStay)).all() == []


def test_the_report_never_reads_the_history(app, users, pipeline, make_account,
                                            make_opportunity):
    account = make_account(owner="rep_a")
    for _n in range(3):
        make_opportunity(account, owner="rep_a")
    with app.app_context(), app.test_request_context():
        for who in ("admin", "manager", "rep_a"):
            user = db.session.get(User, users[who])
            with captured(app) as seen:
                got = report.funnel_report(user, EVERYTHING, datetime.now(UTC))
            assert got.created == 3 and got.stages[0].reached == 3
            assert got.stages[0].average_days is not None
            assert seen and not [sql for sql, _p in seen if "crm_opportunity_change" in sql]


@pytest.mark.usefixtures("import_dir")
def test_imported_opportunities_have_their_summary(app, users, pipeline, make_account):
    """The import writes each opportunity's "created" row through the session: the same
    flush summarises them, a batch at a time."""
    from erp.imports.models import DONE
    from tests.erp.importing import csv_bytes, run_import

    make_account("rep_a", legal_name="Acme Ltda")
    content = csv_bytes([["Título", "Conta", "Etapa", "Responsável"],
                         ["Bimer", "Acme Ltda", "negociação", "rep_b@example.com"],
                         ["Suporte", "Acme Ltda", "", ""]])
    result = run_import(app, users["manager"], "opportunities", content)
    assert (result.status, result.created) == (DONE, 2)
    with app.app_context():
        assert_summary_is_the_historys("imported")
        furthest = db.session.scalars(select(Opportunity.furthest_stage_id)
                                      .order_by(Opportunity.id)).all()
        assert furthest == [pipeline["stages"]["Negociação"], pipeline["stages"]["Prospecção"]]
        assert len(db.session.scalars(select(OpportunityStay)).all()) == 2
