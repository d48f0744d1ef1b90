"""CRM migration 0018 (issue 19) on a database with opportunities and history: the
history's stage rows get their stage's id by today's names (a name no stage has: NULL,
the name kept), the stays are recomputed per stage id, the lost opportunities get the
stage they stood in when lost; the way back restores the stays per stage name and the
losses index, and drops the new columns."""

from __future__ import annotations

from datetime import datetime, timedelta

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from erp.db import db
from tests.conftest import make_user

T0 = datetime(2026, 3, 2, 12)
BEFORE = "0017_crm_merge"
OPPORTUNITY = (
    "INSERT INTO crm_opportunity (id, title, account_id, stage_id, owner_id, status, priority,"
    " estimated_value, archived, stage_entered_at, closed_at, version, created_at, updated_at)"
    " VALUES (:id, 'Op', :account, :stage, :owner, :status, false, 0, false, :at, :closed, 1,"
    " :at, :at)")
CHANGE = ("INSERT INTO crm_opportunity_change (opportunity_id, account_id, at, field, new_value)"
          " VALUES (:opp, :account, :at, :field, :value)")


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def insert_account(conn, owner_id: int, name: str):
    """An account written by hand, with the columns this revision's table has (the models
    may be ahead of it)."""
    from types import SimpleNamespace

    have = {c["name"] for c in inspect(conn).get_columns("crm_account")}
    values = {"person_type": "PJ", "legal_name": name, "owner_id": owner_id,
              "lifecycle": "prospect", "priority": False, "archived": False, "version": 1,
              "created_at": T0, "updated_at": T0, "name_key": name.lower(),
              "search_text": name.lower()}
    values = {key: value for key, value in values.items() if key in have}
    account_id = conn.execute(text(
        f"INSERT INTO crm_account ({', '.join(values)}) VALUES "
        f"({', '.join(':' + key for key in values)}) RETURNING id"), values).scalar()
    return SimpleNamespace(id=account_id)


def _seed() -> dict:
    """Four opportunities:
    1: created in stage 0, moved to 1, lost there, reopened, moved to 2, open;
    2: created in stage 0, moved to 1, lost there; then (a closed one's edit) moved to 3;
    3: created in a stage since deleted ("Estágio antigo"), moved to 0, open;
    4: lost without any history (lost where it stands)."""
    owner = make_user("migrator18", [])
    db.session.commit()
    ids = {"owner": owner.id}
    db.session.remove()
    with db.engine.begin() as conn:
        account = insert_account(conn, owner.id, "Migrada 18 Ltda.")
        ids["account"] = account.id
        stages = dict(conn.execute(text(
            "SELECT name, id FROM crm_stage ORDER BY sequence, id")).all())
        names = list(stages)
        current = {1: names[2], 2: names[3], 3: names[0], 4: names[1]}
        for opp, status in ((1, "open"), (2, "lost"), (3, "open"), (4, "lost")):
            conn.execute(text(OPPORTUNITY), {
                "id": opp, "account": account.id, "stage": stages[current[opp]],
                "owner": owner.id, "at": at(0), "status": status,
                "closed": at(4) if status == "lost" else None})
        history = [(1, 0, "created", names[0]), (1, 2, "stage", names[1]),
                   (1, 3, "status", "lost: Preço"), (1, 5, "status", "open"),
                   (1, 6, "stage", names[2]), (1, 7, "owner", "someone"),
                   (2, 0, "created", names[0]), (2, 1, "stage", names[1]),
                   (2, 4, "status", "lost: Preço"), (2, 8, "stage", names[3]),
                   (3, 0, "created", "Estágio antigo"), (3, 1.5, "stage", names[0])]
        for opp, day, field, value in history:
            conn.execute(text(CHANGE), {"opp": opp, "account": account.id, "at": at(day),
                                        "field": field, "value": value})
    return {**ids, "stages": stages, "names": names}


def _stays(conn, column: str) -> dict:
    return {(row[0], row[1]): row for row in conn.execute(text(
        f"SELECT opportunity_id, {column}, days, since, owner_id FROM crm_opportunity_stay"))}


def test_history_by_stage_id_and_the_stage_where_lost(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", BEFORE):
            flask_migrate.upgrade(revision=revision)
        seeded = _seed()
        stages, names = seeded["stages"], seeded["names"]
        flask_migrate.upgrade(revision="0018_crm_stage_history")

        with db.engine.connect() as conn:
            changes = conn.execute(text(
                "SELECT opportunity_id, field, new_value, stage_id FROM crm_opportunity_change"
                " ORDER BY opportunity_id, at, id")).all()
            stays = _stays(conn, "stage_id")
            lost = dict(conn.execute(text(
                "SELECT id, lost_stage_id FROM crm_opportunity")).all())
        for opp, field, name, stage_id in changes:
            if field in ("created", "stage"):
                # Matched by today's name; the unmatched one keeps its name, no id.
                assert stage_id == stages.get(name), (opp, name)
            else:
                assert stage_id is None
        assert (3, "created", "Estágio antigo", None) in changes

        # The stays per stage id (the deleted stage's row names none; time while lost and
        # a closed one's edit are not counted).
        s = [stages[name] for name in names]
        expected = {(1, s[0]): 2, (1, s[1]): 2, (1, s[2]): 0, (2, s[0]): 1, (2, s[1]): 3,
                    (3, s[0]): 0}
        assert set(stays) == set(expected)
        for key, days in expected.items():
            assert stays[key].days == pytest.approx(days, abs=1e-6), key
            assert stays[key].owner_id == seeded["owner"]
        assert {key for key, row in stays.items() if row.since is not None} == {
            (1, stages[names[2]]), (3, stages[names[0]])}

        # Lost where it stood at its (last) loss, not where it stands now; an open one has
        # none; one lost without history, where it stands.
        assert lost == {1: None, 2: stages[names[1]], 3: None, 4: stages[names[1]]}
        inspector = inspect(db.engine)
        (index,) = [i for i in inspector.get_indexes("crm_opportunity")
                    if i["name"] == "ix_crm_opportunity_closed"]
        assert "lost_stage_id" in index["column_names"]
        assert "stage_id" not in index["column_names"]
        fks = inspector.get_foreign_keys("crm_opportunity_change")
        assert {(tuple(fk["constrained_columns"]), fk["referred_table"]) for fk in fks} >= {
            (("stage_id",), "crm_stage"), (("opportunity_id",), "crm_opportunity")}

        # Deleting a stage (settings moves its opportunities first): its rows lose the id,
        # keep the name; its stays go.
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE crm_opportunity SET stage_id = :to WHERE stage_id = :s"),
                         {"to": stages[names[0]], "s": stages[names[2]]})
            conn.execute(text("DELETE FROM crm_stage WHERE id = :s"), {"s": stages[names[2]]})
        with db.engine.connect() as conn:
            assert conn.execute(text(
                "SELECT stage_id, new_value FROM crm_opportunity_change"
                " WHERE opportunity_id = 1 AND field = 'stage' ORDER BY at")).all()[-1] == (
                    None, names[2])
            assert (1, stages[names[2]]) not in _stays(conn, "stage_id")

        flask_migrate.downgrade(revision=BEFORE)
        inspector = inspect(db.engine)
        assert "stage_id" not in {c["name"] for c in inspector.get_columns(
            "crm_opportunity_change")}
        assert "lost_stage_id" not in {c["name"] for c in inspector.get_columns(
            "crm_opportunity")}
        (index,) = [i for i in inspector.get_indexes("crm_opportunity")
                    if i["name"] == "ix_crm_opportunity_closed"]
        assert index["column_names"] == ["status", "closed_at", "owner_id", "loss_reason_id",
                                         "stage_id", "estimated_value"]
        fks = inspector.get_foreign_keys("crm_opportunity_change")
        assert {(tuple(fk["constrained_columns"]), fk["referred_table"]) for fk in fks} == {
            (("opportunity_id",), "crm_opportunity"), (("account_id",), "crm_account"),
            (("user_id",), "auth_user")}
        # The copy (SQLite) keeps what deleting an opportunity does to its history.
        assert {fk["options"].get("ondelete") for fk in fks
                if fk["constrained_columns"] == ["opportunity_id"]} == {"CASCADE"}
        with db.engine.connect() as conn:
            restored = _stays(conn, "stage_name")
            assert conn.execute(text("SELECT count(*) FROM crm_opportunity_change")).scalar() \
                == 12
        # Per name again, as crm 0012 computes them (the deleted stage's rows included).
        assert set(restored) == {(1, names[0]), (1, names[1]), (1, names[2]), (2, names[0]),
                                 (2, names[1]), (3, "Estágio antigo"), (3, names[0])}
        assert restored[(3, "Estágio antigo")].days == pytest.approx(1.5, abs=1e-6)
        db.session.remove()
        db.engine.dispose()
