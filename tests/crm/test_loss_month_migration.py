"""CRM migration 0024 (issue 15) on a database with opportunities: the losses' monthly
aggregate is counted from the lost opportunities already there (months of their closing
in UTC, no reason or stage as 0, values in cents), its triggers keep it from then on, and
the way back removes the table, the triggers and the function."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from erp.testing.contract_checks import trigger_names
from tests.conftest import make_user
from tests.crm.test_funnel_month_migration import OPPORTUNITY, _rows

BEFORE = "0023_crm_pipeline_total"


def _recount(rows: list[dict]) -> dict:
    counted = defaultdict(lambda: [0, 0])
    for row in rows:
        if row["status"] != "lost" or row["closed"] is None:
            continue
        closed = row["closed"]
        figures = counted[(date(closed.year, closed.month, 1), row["owner"] or 0,
                           row.get("reason") or 0, row.get("lost_stage") or 0)]
        figures[0] += 1
        figures[1] += int(row["value"] * 100)
    return {key: tuple(figures) for key, figures in counted.items()}


def _kept(conn) -> dict:
    kept = {}
    for row in conn.execute(text(
            "SELECT month, owner_id, loss_reason_id, lost_stage_id, lost, value_cents"
            " FROM crm_loss_month WHERE lost <> 0")):
        month = row.month if isinstance(row.month, date) else date.fromisoformat(row.month)
        kept[(month, row.owner_id, row.loss_reason_id, row.lost_stage_id)] = (
            row.lost, row.value_cents)
    return kept


def test_the_losses_are_counted_kept_and_the_way_back_works(make_app, empty_database_url):
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
            reasons = list(conn.execute(text("SELECT id FROM crm_loss_reason")).scalars())
            rows = _rows(stages, owners)
            conn.execute(OPPORTUNITY, [{**row, "account": account} for row in rows])
            for row in rows:  # reasons and stages where lost on most of the losses
                if row["status"] == "lost" and row["id"] % 5:
                    row.update(reason=reasons[row["id"] % len(reasons)],
                               lost_stage=stages[row["id"] % len(stages)])
                    conn.execute(text(
                        "UPDATE crm_opportunity SET loss_reason_id = :reason,"
                        " lost_stage_id = :stage WHERE id = :id"),
                        {"reason": row["reason"], "stage": row["lost_stage"], "id": row["id"]})

        flask_migrate.upgrade(revision="0024_crm_loss_month")
        with db.engine.connect() as conn:
            assert _kept(conn) == _recount(rows)
            assert len(trigger_names(conn, "crm_opportunity_loss_month%")) >= 2
            assert len({key[0] for key in _kept(conn)}) >= 2  # months apart

        # Kept from now on: a loss reopened, another moved to another month and owner,
        # an open one lost, a title edited, a loss deleted.
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE crm_opportunity SET status = 'open', closed_at = NULL"
                              " WHERE id = 3"))
            conn.execute(text("UPDATE crm_opportunity SET closed_at = :at, owner_id = :owner,"
                              " estimated_value = 7.5 WHERE id = 6"),
                         {"at": datetime(2026, 7, 31, 23, 30), "owner": owners[1]})
            conn.execute(text("UPDATE crm_opportunity SET status = 'lost', closed_at = :at"
                              " WHERE id = 1"), {"at": datetime(2026, 8, 1, 0, 0)})
            conn.execute(text("UPDATE crm_opportunity SET title = 'Nada' WHERE id = 9"))
            conn.execute(text("DELETE FROM crm_opportunity WHERE id = 12"))
        changed = [row for row in rows if row["id"] != 12]
        for row in changed:
            if row["id"] == 3:
                row.update(status="open", closed=None)
            if row["id"] == 6:
                row.update(closed=datetime(2026, 7, 31, 23, 30), owner=owners[1],
                           value=Decimal("7.50"))
            if row["id"] == 1:
                row.update(status="lost", closed=datetime(2026, 8, 1))
        with db.engine.connect() as conn:
            assert _kept(conn) == _recount(changed)
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        assert "crm_loss_month" not in inspect(db.engine).get_table_names()
        with db.engine.begin() as conn:
            assert trigger_names(conn, "crm_opportunity_loss_month%") == set()
            if conn.dialect.name == "postgresql":
                assert conn.execute(text(
                    "SELECT count(*) FROM pg_proc WHERE proname = 'crm_opportunity_loss_month'")
                ).scalar() == 0
            # The opportunities are written as before; the other aggregates still kept.
            conn.execute(text("UPDATE crm_opportunity SET status = 'lost', closed_at = :at"
                              " WHERE id = 2"), {"at": datetime(2026, 9, 1)})
            conn.execute(text("DELETE FROM crm_opportunity WHERE id = 15"))
            assert conn.execute(text(
                "SELECT sum(opportunities) FROM crm_pipeline_total")).scalar() == 34
        db.session.remove()
        db.engine.dispose()
