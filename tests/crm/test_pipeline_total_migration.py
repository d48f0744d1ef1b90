"""CRM migration 0023 (issue 15) on a database with opportunities: the open pipeline's
totals are counted from the opportunities already there (every status, archived or not,
values in cents), its triggers keep them from then on, and the way back removes the table,
the triggers and the function."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from erp.testing.contract_checks import trigger_names
from tests.conftest import make_user
from tests.crm.test_funnel_month_migration import OPPORTUNITY, _rows

BEFORE = "0022_crm_funnel_month"


def _recount(rows: list[dict]) -> dict:
    counted = defaultdict(lambda: [0, 0])
    for row in rows:
        figures = counted[(row["status"], bool(row["archived"]), row["owner"] or 0,
                           row["stage"])]
        figures[0] += 1
        figures[1] += int(row["value"] * 100)
    return {key: tuple(figures) for key, figures in counted.items()}


def _kept(conn) -> dict:
    return {(row.status, bool(row.archived), row.owner_id, row.stage_id):
            (row.opportunities, row.value_cents)
            for row in conn.execute(text(
                "SELECT status, archived, owner_id, stage_id, opportunities, value_cents"
                " FROM crm_pipeline_total WHERE opportunities <> 0"))}


def test_the_totals_are_counted_kept_and_the_way_back_works(make_app, empty_database_url):
    from tests.crm.test_stage_history_migration import insert_account

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", BEFORE):
            flask_migrate.upgrade(revision=revision)
        people = [make_user(name, []) for name in ("migrator", "another")]
        db.session.commit()
        owners = [person.id for person in people]
        db.session.remove()
        with db.engine.begin() as conn:
            account = insert_account(conn, owners[0], "Migrada Ltda.").id
            stages = list(conn.execute(text(
                "SELECT id FROM crm_stage ORDER BY sequence, id")).scalars())
            rows = _rows(stages, owners)
            conn.execute(OPPORTUNITY, [{**row, "account": account} for row in rows])

        flask_migrate.upgrade(revision="0023_crm_pipeline_total")
        with db.engine.connect() as conn:
            assert _kept(conn) == _recount(rows)
            assert len(trigger_names(conn, "crm_opportunity_pipeline_total%")) >= 2
            assert {key[1] for key in _kept(conn)} == {False, True}

        # Kept from now on: an insert, updates of what it counts (and of what it does
        # not), a delete; the funnel's aggregate still kept beside it.
        new = {**rows[1], "id": 100, "at": datetime(2026, 4, 30, 23, 59), "status": "open",
               "closed": None, "archived": False}
        with db.engine.begin() as conn:
            conn.execute(OPPORTUNITY, {**new, "account": account})
            conn.execute(text(
                "UPDATE crm_opportunity SET stage_id = :stage, owner_id = :owner,"
                " estimated_value = 7.5 WHERE id = 2"),
                {"stage": stages[-1], "owner": owners[1]})
            conn.execute(text("UPDATE crm_opportunity SET archived = :yes, status = 'won'"
                              " WHERE id = 5"), {"yes": True})
            conn.execute(text("UPDATE crm_opportunity SET title = 'Nada' WHERE id = 3"))
            conn.execute(text("DELETE FROM crm_opportunity WHERE id = 4"))
        changed = [row for row in rows if row["id"] != 4] + [new]
        for row in changed:
            if row["id"] == 2:
                row.update(stage=stages[-1], owner=owners[1], value=Decimal("7.50"))
            if row["id"] == 5:
                row.update(archived=True, status="won")
        with db.engine.connect() as conn:
            assert _kept(conn) == _recount(changed)
            assert conn.execute(text(
                "SELECT sum(opportunities) FROM crm_funnel_month")).scalar() == len(changed)
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        assert "crm_pipeline_total" not in inspect(db.engine).get_table_names()
        with db.engine.begin() as conn:
            assert trigger_names(conn, "crm_opportunity_pipeline_total%") == set()
            if conn.dialect.name == "postgresql":
                assert conn.execute(text(
                    "SELECT count(*) FROM pg_proc"
                    " WHERE proname = 'crm_opportunity_pipeline_total'")).scalar() == 0
            # The opportunities are written as before, without the table; the funnel's
            # aggregate still kept.
            conn.execute(OPPORTUNITY, {**new, "id": 101, "account": account})
            conn.execute(text("UPDATE crm_opportunity SET stage_id = :stage WHERE id = 6"),
                         {"stage": stages[0]})
            conn.execute(text("DELETE FROM crm_opportunity WHERE id = 7"))
            assert conn.execute(text("SELECT count(*) FROM crm_opportunity")).scalar() == 36
            assert conn.execute(text(
                "SELECT sum(opportunities) FROM crm_funnel_month")).scalar() == 36
        db.session.remove()
        db.engine.dispose()
