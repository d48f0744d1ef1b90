"""The home page's CRM widgets read their covering indexes whatever the statistics say
(issue 15, "the good plan the only plan"): the agenda's two counts are counts of ranges of
the (user, done, archived, at, kind) index, named on SQLite (INDEXED BY); the pipeline
(since crm 0023) the user's range of the open pipeline's totals, a row per stage. With
statistics that make the user's other index look more selective (taken when the tables
were small), SQLite read the user's actions or opportunities through it and each row
from the table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, text

from erp.auth.models import User
from erp.db import db, refresh_statistics
from modules.crm.dashboard import agenda_counts_select, agenda_summary, pipeline_select
from modules.crm.models import Action, Opportunity
from tests.crm.plans import forget_statistics, query_plan

TODAY = date(2026, 11, 23)

# Misleading: each user seemingly holding a few rows of the one-column (or shorter)
# index, as after an ANALYZE of a young database.
MISLEADING = {
    ("crm_action", "ix_crm_action_user_done_at"): "300000 20 10 1",
    ("crm_action", "ix_crm_action_user_open"): "300000 100000 50000 50000 1 1",
    ("crm_opportunity", "ix_crm_opportunity_owner_id"): "50000 2",
    ("crm_opportunity", "ix_crm_opportunity_open_totals"): "50000 25000 25000 10000 5000 1",
}


@pytest.fixture
def rows(app, users, make_account, pipeline):
    """A rep's planned and done actions and open opportunities in every stage, among
    others'; fresh statistics, then the misleading ones written over them (SQLite)."""
    account = make_account(legal_name="Painel Ltda.")
    people = [users["rep_a"], users["rep_b"], users["manager"]]
    stages = list(pipeline["stages"].values())
    with app.app_context():
        start = datetime(2026, 1, 1, 9, tzinfo=UTC)
        # the times a permutation of the rows' order (actions are entered account by
        # account, not in time order) and rows of a real action's size: PostgreSQL then
        # does not count on reading a period of the table from consecutive pages
        db.session.execute(insert(Action), [
            {"account_id": account, "kind": "call", "user_id": people[n % 3],
             "at": start + timedelta(hours=7 * (n * 7919 % 1500)), "done": n % 4 == 0,
             "archived": n % 9 == 0, "description": f"#{n} " + "Ligou; retorna amanhã. " * 12,
             "created_at": start, "updated_at": start} for n in range(1500)])
        db.session.execute(insert(Opportunity), [
            {"account_id": account, "title": f"Negócio {n}", "stage_id": stages[n % len(stages)],
             "owner_id": people[n % 3], "status": "open" if n % 5 else "won",
             "archived": n % 17 == 0, "estimated_value": Decimal("10.00"), "priority": False,
             "created_at": start, "updated_at": start} for n in range(3000)])
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            refresh_statistics()
            with db.engine.begin() as conn:
                for (table, index), stat in MISLEADING.items():
                    conn.execute(text("DELETE FROM sqlite_stat1 WHERE idx = :idx"),
                                 {"idx": index})
                    conn.execute(text("INSERT INTO sqlite_stat1 (tbl, idx, stat) "
                                      "VALUES (:tbl, :idx, :stat)"),
                                 {"tbl": table, "idx": index, "stat": stat})
            db.engine.dispose()
        else:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                # the tests empty the tables with DELETE: indexes swollen by an earlier
                # test's rows would weigh in this plan; rebuilt, they hold these rows only
                conn.execute(text("REINDEX TABLE crm_action"))
                conn.execute(text("REINDEX TABLE crm_opportunity"))
                conn.execute(text("VACUUM ANALYZE crm_action"))
                conn.execute(text("VACUUM ANALYZE crm_opportunity"))
                conn.execute(text("VACUUM ANALYZE crm_stage"))  # the ranges: one per stage
    yield
    with app.app_context():
        forget_statistics()


def _nodes(plan: str, table: str) -> list[list[str]]:
    """PostgreSQL: the plan's nodes reading ``table``, each its line and its details."""
    nodes: list[list[str]] = []
    for line in plan.splitlines():
        if "->" in line or not nodes:
            nodes.append([line])
        else:
            nodes[-1].append(line)
    return [node for node in nodes if f" on {table} " in node[0] + " "]


def test_the_agenda_counts_ranges_of_the_covering_index(app, users, rows):
    with app.test_request_context():
        rep = db.session.get(User, users["rep_a"])
        plan = query_plan(agenda_counts_select(rep, TODAY))
        if db.engine.dialect.name == "sqlite":
            reads = [line for line in plan.splitlines() if "crm_action" in line]
            assert len(reads) == 2, plan  # before today; today
            assert all("COVERING INDEX" in line and "user_id=? AND done=? AND archived=? "
                       "AND at" in line for line in reads), plan
        else:
            reads = _nodes(plan, "crm_action")
            assert len(reads) == 2, plan
            for node in reads:
                assert "Index Only Scan" in node[0], plan
                assert not any("Filter" in detail for detail in node[1:]), plan
        # the figures: the rep's planned, kept actions before today and today
        summary = agenda_summary(rep, TODAY)
        mine = db.session.scalars(db.select(Action).where(
            Action.user_id == rep.id, Action.done.is_(False),
            Action.archived.is_(False))).all()
        start, tomorrow = datetime(2026, 11, 23, 3, tzinfo=UTC), datetime(2026, 11, 24, 3,
                                                                         tzinfo=UTC)
        ats = [a.at.replace(tzinfo=a.at.tzinfo or UTC) for a in mine]
        assert (summary.overdue, summary.today) == (
            sum(1 for at in ats if at < start), sum(1 for at in ats if start <= at < tomorrow))


def test_the_pipeline_reads_the_owners_range_of_the_totals(app, users, rows, pipeline):
    """Since crm 0023 the open pipeline's totals, a row per stage of the rep's range of
    their key, not the rep's opportunities (a range per stage of crm_opportunity's
    covering index before): crm_opportunity is not read at all."""
    with app.test_request_context():
        rep = db.session.get(User, users["rep_a"])
        plan = query_plan(pipeline_select(rep), forbid_sort=False)
        assert "crm_opportunity" not in plan, plan
        if db.engine.dialect.name == "sqlite":
            reads = [line for line in plan.splitlines() if "crm_pipeline_total" in line]
            assert reads and all("SEARCH" in line and "archived=? AND owner_id=?" in line
                                 for line in reads), plan
        else:
            reads = _nodes(plan, "crm_pipeline_total")
            assert reads, plan
            for node in reads:
                conditions = [d for d in node[1:] if "Index Cond" in d]
                assert conditions and all("owner_id = " in d for d in conditions), plan
        # the figures: every stage, the rep's open, kept opportunities in it (cents)
        rows_ = db.session.execute(pipeline_select(rep)).all()
        assert [r[0] for r in rows_] == list(pipeline["stages"].values())
        mine = db.session.scalars(db.select(Opportunity).where(
            Opportunity.owner_id == rep.id, Opportunity.status == "open",
            Opportunity.archived.is_(False))).all()
        for stage_id, _name, count, cents in rows_:
            in_stage = [o for o in mine if o.stage_id == stage_id]
            assert (count, Decimal(int(cents)).scaleb(-2)) == (
                len(in_stage), sum((o.estimated_value for o in in_stage), Decimal(0)))
