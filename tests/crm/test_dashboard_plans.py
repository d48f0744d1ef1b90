"""The home page's agenda counts a user's planned actions from an index alone (issue 15):
the (user_id, done, archived, at) index (crm 0010) holds every column the counts test, so
neither database reads an action row to check that it is kept (not archived) — before,
each of the user's planned actions up to tomorrow was read from the table (5-18 ms at
200,000 accounts for a rep with 2,700 overdue actions; 0.2-0.4 ms now)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, text

from erp.auth.models import User
from erp.db import db, refresh_statistics
from modules.crm.dashboard import agenda_counts_select, agenda_summary
from modules.crm.models import Action
from tests.crm.plans import query_plan

TODAY = date(2026, 11, 23)


def test_the_agenda_counts_read_the_index_alone(app, users, make_account):
    account = make_account(legal_name="Agenda Ltda.")
    people = [users["rep_a"], users["rep_b"], users["manager"]]
    with app.app_context():
        start = datetime(2026, 1, 1, 9, tzinfo=UTC)
        # The rep owns one action in twenty, as one of many users would: a range read of
        # the rep's open actions must win over reading every user's past actions.
        db.session.execute(insert(Action), [
            {"account_id": account, "kind": "call",
             "user_id": people[0] if n % 20 == 0 else people[1 + n % 2],
             "at": start + timedelta(hours=7 * n), "done": n % 4 == 0,
             "archived": n % 9 == 0, "description": f"#{n}", "created_at": start,
             "updated_at": start} for n in range(3000)])
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            refresh_statistics()
        else:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE crm_action"))
    with app.test_request_context():
        rep = db.session.get(User, users["rep_a"])
        plan = query_plan(agenda_counts_select(rep, TODAY))
        reads = [line for line in plan.splitlines() if "crm_action" in line]
        if db.engine.dialect.name == "sqlite":
            # two counts of ranges (before today, today: issue 15), each the index alone
            assert len(reads) == 2, plan
            assert all("COVERING INDEX" in line and "archived=?" in line
                       and "user_id=?" in line for line in reads), plan
        else:
            # PostgreSQL chooses between the two (user_id, done, …) indexes by statistics
            # that earlier tests leave behind; either one is a range read of the rep's
            # open actions, never a scan of every action.
            assert "Seq Scan on crm_action" not in plan, plan
            conditions = [line for line in plan.splitlines() if "Index Cond" in line]
            assert conditions and all("user_id = " in line for line in conditions), plan
        # The figures: the rep's planned, kept actions before today and today.
        summary = agenda_summary(rep, TODAY)
        actions = db.session.scalars(db.select(Action).where(
            Action.user_id == rep.id, Action.done.is_(False),
            Action.archived.is_(False))).all()
        assert summary.total == sum(
            1 for a in actions
            if a.at.replace(tzinfo=a.at.tzinfo or UTC) < datetime(2026, 11, 24, 3, tzinfo=UTC))
