"""The actions report counts a period's actions from an index alone (issue 15): at 200,000
accounts a month holds 7,500 actions, and reading each from the table to learn its kind
cost 18 ms (1.5 at 20,000); the (user, done, archived, at, kind) index answers the whole
GROUP BY (crm 0011): 4.4 ms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from erp.auth.models import User
from erp.db import db, refresh_statistics
from modules.crm.models import Action
from modules.crm.reports.actions import report_select
from modules.crm.reports.filters import Filters
from tests.crm.plans import forget_statistics, query_plan

NOW = datetime.now(UTC).replace(microsecond=0)
KINDS = ("call", "email", "meeting", "visit")


@pytest.fixture
def history(app, users, make_account):
    """A year of actions for three reps (a few archived), then fresh statistics."""
    account = make_account(owner="rep_a")
    with app.app_context():
        db.session.execute(Action.__table__.insert(), [
            {"account_id": account, "user_id": users[who], "kind": KINDS[n % 4],
             "at": NOW - timedelta(hours=7 * n), "done": n % 3 != 0, "archived": n % 40 == 0,
             "description": "x", "created_at": NOW, "updated_at": NOW}
            for n in range(1200) for who in ("rep_a", "rep_b", "rep_c")])
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            refresh_statistics()


@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_the_report_reads_the_period_from_a_covering_index(app, users, history, who):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's plan (PostgreSQL's: the test below)")
        user = db.session.get(User, users[who])
        today = NOW.date()
        period = Filters(start=today - timedelta(days=30), end=today)
        plan = query_plan(report_select(user, period, NOW))
        reads = [line.strip() for line in plan.splitlines() if "crm_action" in line]
        assert reads and all("COVERING INDEX" in line for line in reads), plan


# sqlite_stat1 of crm_action at 200,000 accounts and 1,000,000 actions: a user holds a
# quarter of the actions (one, "ana", more than a third), and no two actions share a time.
STATISTICS_200K = {
    "ix_crm_action_user_open": "1000060 250015 125008 125008 1 1",
    "ix_crm_action_user_done_at": "1000060 250015 125008 1",
    "ix_crm_action_at": "1000060 1",
}

# A range of the (user, done, archived, at, …) index: equalities on every column before
# the period's bounds (not a skip scan, not the period of everyone filtered by user).
RANGES = re.compile(r"USING COVERING INDEX \w+ \((\w+=\? AND )+at>\? AND at<\?")


@pytest.fixture
def statistics_200k(app, history):
    """The statistics of the 200,000-account database written over the test's: with them
    SQLite read a rep's month from the (at) index and each of the month's actions of
    everyone from the table (17.5 ms), not the rep's ranges of the covering index (2 ms)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's statistics")
        with db.engine.begin() as conn:
            for index, stat in STATISTICS_200K.items():
                conn.execute(text("DELETE FROM sqlite_stat1 WHERE idx = :idx"), {"idx": index})
                conn.execute(text("INSERT INTO sqlite_stat1 (tbl, idx, stat) "
                                  "VALUES ('crm_action', :idx, :stat)"),
                             {"idx": index, "stat": stat})
        db.engine.dispose()  # new connections read them
    yield
    with app.app_context():
        forget_statistics()


@pytest.mark.parametrize("filtered", ["", "kind", "user", "team"])
@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_the_period_is_read_by_the_users_ranges_whatever_the_statistics(
        app, users, statistics_200k, who, filtered):
    with app.app_context():
        user = db.session.get(User, users[who])
        today = NOW.date()
        period = Filters(
            start=today - timedelta(days=30), end=today,
            kind="call" if filtered == "kind" else None,
            user_id=users["rep_a"] if filtered == "user" else None,
            team_id=user.team_id if filtered == "team" and user.team_id else None)
        plan = query_plan(report_select(user, period, NOW))
        reads = [line.strip() for line in plan.splitlines() if "crm_action" in line]
        assert reads and all(RANGES.search(line) for line in reads), plan


@pytest.fixture
def years_of_history(app, users, make_account):
    """Seven months of actions of four users, one an hour each (a few archived), then
    PostgreSQL's statistics. Rows of a real action's size (a few lines of description):
    the month's actions lie on as many pages of the table as at 200,000 accounts, where
    the (at) index and the table cost more than the users' ranges of the covering index."""
    account = make_account(owner="rep_a")
    description = "Ligou para confirmar a proposta; retorna na semana que vem. " * 6
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip("PostgreSQL's plan")
        db.session.execute(Action.__table__.insert(), [
            {"account_id": account, "user_id": users[who], "kind": KINDS[n % 4],
             # hours ago: a permutation of 0..4999, the table's order not the times' (as
             # when actions are entered account by account), so that PostgreSQL does not
             # count on reading the month's rows from consecutive pages
             "at": NOW - timedelta(hours=n * 7919 % 5000), "done": n % 3 != 0,
             "archived": n % 40 == 0, "description": description, "created_at": NOW,
             "updated_at": NOW}
            for n in range(5000) for who in ("rep_a", "rep_b", "rep_c", "manager")])
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("REINDEX TABLE crm_action"))  # earlier tests' rows: deleted
            conn.execute(text("VACUUM ANALYZE crm_action"))
            conn.execute(text("VACUUM ANALYZE auth_user"))
    yield
    # these 20,000 rows would swell the indexes of the tests after (the tables are emptied
    # with DELETE) and weigh in their plans
    with app.app_context(), db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("DELETE FROM crm_action"))
        conn.execute(text("VACUUM crm_action"))
        conn.execute(text("REINDEX TABLE crm_action"))


@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_postgresql_reads_the_users_ranges_from_the_index_alone(app, users, years_of_history,
                                                                who):
    """PostgreSQL 15 has no skip scan: without the users named and both values of
    ``done`` listed, it read the period of everyone from the (at) index and each row from
    the table to filter it (7,000 buffers at 200,000 accounts; 20 by the ranges)."""
    with app.app_context():
        user = db.session.get(User, users[who])
        today = NOW.date()
        period = Filters(start=today - timedelta(days=30), end=today)
        plan = query_plan(report_select(user, period, NOW))
        # Each read of crm_action: an index-only scan whose conditions are all in the
        # index's ranges (no row read, none filtered out after the read).
        nodes: list[list[str]] = []
        for line in plan.splitlines():
            if "->" in line or not nodes:
                nodes.append([line])
            else:
                nodes[-1].append(line)
        reads = [node for node in nodes if " on crm_action " in node[0] + " "]
        assert reads, plan
        for node in reads:
            assert "Index Only Scan" in node[0], plan
            assert not any("Filter:" in detail for detail in node[1:]), plan
            # ranges, not the user's whole history read for the month's (no skip scan): an
            # equality on each column before the period's bounds
            conditions = [d for d in node[1:] if "Index Cond" in d]
            assert conditions and all("user_id = " in d and "done = " in d
                                      and "archived = " in d for d in conditions), plan


def test_the_figures_are_those_of_the_rows(app, users, history):
    """Same counts as a count of the rows in Python (the index's ranges miss none)."""
    with app.app_context():
        admin = db.session.get(User, users["admin"])
        today = NOW.date()
        period = Filters(start=today - timedelta(days=30), end=today)
        rows = db.session.execute(report_select(admin, period, NOW)).all()
        start, end = period.start_at, period.end_before
        expected: dict[tuple, list[int]] = {}
        for action in db.session.scalars(db.select(Action)):
            at = action.at if action.at.tzinfo else action.at.replace(tzinfo=UTC)
            if action.archived or not start <= at < end:
                continue
            counts = expected.setdefault((action.user_id, action.kind), [0, 0, 0])
            counts[0 if action.done else 1 if at >= NOW else 2] += 1
        assert {(r.user_id, r.kind): [r.done, r.planned, r.overdue] for r in rows} == expected
