"""CRM migrations 0012-0014 on a database with opportunities and history: the funnel
report's summary is computed from the existing history (furthest stage, stays per stage
name, time while lost left out) and the won ones' cycle from their dates; the way back
removes them and restores the old index."""

from __future__ import annotations

from datetime import datetime, timedelta

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from erp.db import db
from tests.conftest import make_user

T0 = datetime(2026, 3, 2, 12)
OPPORTUNITY = (
    "INSERT INTO crm_opportunity (id, title, account_id, stage_id, owner_id, status, priority,"
    " estimated_value, archived, stage_entered_at, closed_at, version, created_at, updated_at)"
    " VALUES (:id, 'Op', :account, :stage, :owner, :status, false, 0, false, :at, :closed, 1,"
    " :at, :at)")
CHANGE = ("INSERT INTO crm_opportunity_change (opportunity_id, account_id, at, field, new_value)"
          " VALUES (:opp, :account, :at, :field, :value)")


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def _seed() -> dict:
    """Three opportunities: one with a lost-and-reopened history now in its third stage,
    one won without history, one created in a stage since renamed."""
    from tests.crm.test_stage_history_migration import insert_account

    owner = make_user("migrator", [])
    db.session.commit()
    ids = {"owner": owner.id}
    db.session.remove()  # no read snapshot (SQLite) kept from before the migration
    with db.engine.begin() as conn:
        # By hand: the models are ahead of this revision's schema (crm 0016-0019).
        account = insert_account(conn, owner.id, "Migrada Ltda.")
        ids["account"] = account.id
        stages = dict(conn.execute(text(
            "SELECT name, id FROM crm_stage ORDER BY sequence, id")).all())
        names = list(stages)
        for opp in (1, 2, 3):
            won = opp == 2  # won 4.5 days after its creation (and without history)
            conn.execute(text(OPPORTUNITY), {"id": opp, "account": account.id,
                                             "stage": stages[names[2 if opp == 1 else 0]],
                                             "owner": owner.id, "at": at(0),
                                             "status": "won" if won else "open",
                                             "closed": at(4.5) if won else None})
        history = [(1, 0, "created", names[0]), (1, 2, "stage", names[1]),
                   (1, 3, "status", "lost: Preço"), (1, 5, "status", "open"),
                   (1, 6, "stage", names[2]), (1, 7, "owner", "someone"),
                   (3, 0, "created", "Estágio antigo"), (3, 1.5, "stage", names[0])]
        for opp, day, field, value in history:
            conn.execute(text(CHANGE), {"opp": opp, "account": account.id, "at": at(day),
                                        "field": field, "value": value})
    return {**ids, "stages": stages, "names": names}


def test_the_summary_is_computed_from_the_history_and_the_way_back_works(
        make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "0011_crm_action_report_covering"):
            flask_migrate.upgrade(revision=revision)
        seeded = _seed()
        stages, names = seeded["stages"], seeded["names"]
        flask_migrate.upgrade(revision="0012_crm_funnel_summary")
        with db.engine.connect() as conn:
            furthest = dict(conn.execute(text(
                "SELECT id, furthest_stage_id FROM crm_opportunity")).all())
            stays = {(row.opportunity_id, row.stage_name): row for row in conn.execute(text(
                "SELECT opportunity_id, stage_name, owner_id, days, since, created_at"
                " FROM crm_opportunity_stay"))}
        assert furthest == {1: stages[names[2]], 2: None, 3: stages[names[0]]}
        assert set(stays) == {(1, names[0]), (1, names[1]), (1, names[2]),
                              (3, "Estágio antigo"), (3, names[0])}
        # names[1]: 2 -> 3 and, reopened, 5 -> 6 (the two lost days are not counted).
        expected_days = {(1, names[0]): 2, (1, names[1]): 2, (1, names[2]): 0,
                         (3, "Estágio antigo"): 1.5, (3, names[0]): 0}
        for key, days in expected_days.items():
            assert stays[key].days == pytest.approx(days, abs=1e-6), key
            assert stays[key].owner_id == seeded["owner"]
        going_on = {key: row.since for key, row in stays.items() if row.since is not None}
        assert set(going_on) == {(1, names[2]), (3, names[0])}

        # crm 0014: the won opportunity's cycle, in days; none for the open ones.
        flask_migrate.upgrade(revision="0014_crm_funnel_cycle")
        with db.engine.connect() as conn:
            cycles = dict(conn.execute(text("SELECT id, cycle_days FROM crm_opportunity")).all())
        assert cycles[1] is None and cycles[3] is None
        assert cycles[2] == pytest.approx(4.5, abs=1e-6)

        flask_migrate.downgrade(revision="0011_crm_action_report_covering")
        inspector = inspect(db.engine)
        assert "crm_opportunity_stay" not in inspector.get_table_names()
        assert "furthest_stage_id" not in {
            c["name"] for c in inspector.get_columns("crm_opportunity")}
        (index,) = [i for i in inspector.get_indexes("crm_opportunity")
                    if i["name"] == "ix_crm_opportunity_created"]
        assert index["column_names"] == ["created_at", "owner_id", "stage_id", "status",
                                         "estimated_value", "closed_at", "id"]
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM crm_opportunity")).scalar() == 3
        db.session.remove()
        db.engine.dispose()
