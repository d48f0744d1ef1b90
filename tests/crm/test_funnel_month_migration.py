"""CRM migration 0022 (issue 15) on a database with opportunities: the funnel report's
monthly aggregate is counted from the opportunities already there (months in UTC, no
owner or furthest stage as 0, values in cents, the won ones' cycles), its triggers keep
it from then on, and the way back removes the table and the triggers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import flask_migrate
import pytest
from sqlalchemy import bindparam, inspect, text

from erp.db import db
from erp.money import Money
from erp.testing.contract_checks import trigger_names
from tests.conftest import make_user

OPPORTUNITY = text(
    "INSERT INTO crm_opportunity (id, title, account_id, stage_id, owner_id, status, priority,"
    " estimated_value, archived, stage_entered_at, closed_at, version, created_at, updated_at,"
    " furthest_stage_id, cycle_days) VALUES (:id, 'Op', :account, :stage, :owner, :status,"
    " false, :value, :archived, :at, :closed, 1, :at, :at, :furthest, :cycle)"
).bindparams(bindparam("value", type_=Money))


def _rows(stages: list[int], owners: list[int]) -> list[dict]:
    """Opportunities on both sides of month ends (UTC), in every status, archived or not,
    with and without a furthest stage and a cycle."""
    moments = [datetime(2026, 1, 31, 23, 59, 59), datetime(2026, 2, 1, 0, 0),
               datetime(2026, 2, 14, 12), datetime(2026, 2, 28, 23, 30),
               datetime(2026, 3, 1, 2, 59), datetime(2025, 12, 31, 23, 0)]
    rows = []
    for n in range(36):
        status = ("open", "won", "lost")[n % 3]
        at = moments[n % len(moments)]
        rows.append({"id": n + 1, "stage": stages[n % len(stages)],
                     "owner": owners[n % len(owners)], "status": status,
                     "value": Decimal(n * 1234 + 5) / 100, "archived": n % 7 == 0, "at": at,
                     "closed": at if status != "open" else None,
                     "furthest": None if n % 4 == 0 else stages[(n * 3) % len(stages)],
                     "cycle": (n / 3 + 0.25) if status == "won" else None})
    return rows


def _recount(rows: list[dict]) -> dict:
    counted = defaultdict(lambda: [0, 0, 0.0, 0])
    for row in rows:
        key = (row["stage"], row["status"], row["furthest"] or 0,
               date(row["at"].year, row["at"].month, 1), row["owner"] or 0)
        figures = counted[key]
        figures[0] += 1
        figures[1] += int(row["value"] * 100)
        if row["cycle"] is not None:
            figures[2] += row["cycle"]
            figures[3] += 1
    return {key: tuple(figures) for key, figures in counted.items()}


def _kept(conn) -> dict:
    rows = conn.execute(text(
        "SELECT stage_id, status, furthest_stage_id, month, owner_id, opportunities,"
        " value_cents, cycle_days, cycles FROM crm_funnel_month WHERE opportunities <> 0"))
    kept = {}
    for row in rows:
        month = row.month if isinstance(row.month, date) else date.fromisoformat(row.month)
        kept[(row.stage_id, row.status, row.furthest_stage_id, month, row.owner_id)] = (
            row.opportunities, row.value_cents, row.cycle_days, row.cycles)
    return kept


def _assert_same(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, (count, cents, days, cycles) in expected.items():
        assert (got[key][0], got[key][1], got[key][3]) == (count, cents, cycles), key
        assert got[key][2] == pytest.approx(days, abs=1e-6), key


STAY = text(
    "INSERT INTO crm_opportunity_stay (opportunity_id, stage_id, created_at, owner_id, days,"
    " since) VALUES (:opp, :stage, :at, :owner, :days, :since)")


def _stays(rows: list[dict]) -> list[dict]:
    """A stay or two of each opportunity (its creation time and owner copied), ended or
    going on."""
    stays = []
    for row in rows:
        for k, stage in enumerate(sorted({row["stage"], row["furthest"] or row["stage"]})):
            going_on = k == 0 and row["id"] % 2 == 0
            stays.append({"opp": row["id"], "stage": stage, "at": row["at"],
                          "owner": row["owner"], "days": row["id"] / 7 + k,
                          "since": datetime(2026, 5, row["id"] % 28 + 1, 6) if going_on
                          else None})
    return stays


def _recount_stays(stays: list[dict]) -> dict:
    counted = defaultdict(lambda: [0, 0.0, 0, 0.0])
    for stay in stays:
        figures = counted[(stay["stage"], date(stay["at"].year, stay["at"].month, 1),
                           stay["owner"])]
        figures[0] += 1
        figures[1] += stay["days"]
        if stay["since"] is not None:
            figures[2] += 1
            figures[3] += (stay["since"] - datetime(2000, 1, 1)).total_seconds() / 86400
    return {key: tuple(figures) for key, figures in counted.items()}


def _kept_stays(conn) -> dict:
    kept = {}
    for row in conn.execute(text(
            "SELECT stage_id, month, owner_id, stays, days, ongoing, since_days"
            " FROM crm_funnel_stay_month WHERE stays <> 0")):
        month = row.month if isinstance(row.month, date) else date.fromisoformat(row.month)
        kept[(row.stage_id, month, row.owner_id)] = (row.stays, row.days, row.ongoing,
                                                     row.since_days)
    return kept


def _assert_same_stays(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, (stays, days, ongoing, since_days) in expected.items():
        assert (got[key][0], got[key][2]) == (stays, ongoing), key
        assert got[key][1] == pytest.approx(days, abs=1e-6), key
        assert got[key][3] == pytest.approx(since_days, abs=1e-6), key


def test_the_aggregate_is_counted_kept_and_the_way_back_works(make_app, empty_database_url):
    from tests.crm.test_stage_history_migration import insert_account

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "0021_crm_duplicate_candidates"):
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
            stays = _stays(rows)
            conn.execute(STAY, stays)

        flask_migrate.upgrade(revision="0022_crm_funnel_month")
        with db.engine.connect() as conn:
            _assert_same(_kept(conn), _recount(rows))
            _assert_same_stays(_kept_stays(conn), _recount_stays(stays))
            assert len(trigger_names(conn, "crm_opportunity%funnel%")) >= 4

        # Kept from now on: an insert, an update of what it counts, a delete.
        new = {**rows[1], "id": 100, "at": datetime(2026, 4, 30, 23, 59), "cycle": 2.5,
               "status": "won", "closed": datetime(2026, 5, 3)}
        with db.engine.begin() as conn:
            conn.execute(OPPORTUNITY, {**new, "account": account})
            conn.execute(text(
                "UPDATE crm_opportunity SET stage_id = :stage, owner_id = :owner,"
                " estimated_value = 7.5 WHERE id = 2"),
                {"stage": stages[-1], "owner": owners[1]})
            conn.execute(text("UPDATE crm_opportunity SET title = 'Nada' WHERE id = 3"))
            conn.execute(text("DELETE FROM crm_opportunity WHERE id = 4"))  # and its stays
            conn.execute(text("UPDATE crm_opportunity_stay SET since = NULL, days = 9.5"
                              " WHERE opportunity_id = 2"))
        stays = [stay for stay in stays if stay["opp"] != 4]
        for stay in stays:
            if stay["opp"] == 2:
                stay.update(since=None, days=9.5)
        changed = [row for row in rows if row["id"] != 4] + [new]
        second = next(row for row in changed if row["id"] == 2)
        second.update(stage=stages[-1], owner=owners[1], value=Decimal("7.50"))
        with db.engine.connect() as conn:
            _assert_same(_kept(conn), _recount(changed))
            _assert_same_stays(_kept_stays(conn), _recount_stays(stays))
        db.session.remove()

        flask_migrate.downgrade(revision="0021_crm_duplicate_candidates")
        tables = inspect(db.engine).get_table_names()
        assert not {"crm_funnel_month", "crm_funnel_stay_month"} & set(tables)
        with db.engine.begin() as conn:
            assert trigger_names(conn, "crm_opportunity%funnel%") == set()
            if conn.dialect.name == "postgresql":
                assert conn.execute(text(
                    "SELECT count(*) FROM pg_proc WHERE proname LIKE 'crm_opportunity%funnel'")
                ).scalar() == 0
            # The opportunities are written as before, without the table.
            conn.execute(OPPORTUNITY, {**new, "id": 101, "account": account})
            conn.execute(text("UPDATE crm_opportunity SET stage_id = :stage WHERE id = 5"),
                         {"stage": stages[0]})
            conn.execute(text("DELETE FROM crm_opportunity WHERE id = 6"))
            assert conn.execute(text("SELECT count(*) FROM crm_opportunity")).scalar() == 36
        db.session.remove()
        db.engine.dispose()
