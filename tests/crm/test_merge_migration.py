"""CRM migration 0017 (issue 18) on a database with accounts and contacts: they were merged
into nothing (the new columns start empty), the merge log is there, the search index's
triggers still run (the columns are added in place, no table copy); the way back removes
the columns and the log, and the triggers still run."""

from __future__ import annotations

from datetime import datetime

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from tests.conftest import make_user

ACCOUNT = (
    "INSERT INTO crm_account (id, person_type, legal_name, owner_id, lifecycle, priority, "
    "archived, search_text, version, created_at, updated_at) VALUES (:id, 'PJ', :name, "
    ":owner, 'prospect', false, false, :search, 1, :at, :at)")
T0 = datetime(2026, 3, 2, 12)


def _found(conn, word: str) -> list[int]:
    """The accounts the search index finds for ``word`` (FTS5 on SQLite, trigrams on PG)."""
    if conn.dialect.name == "sqlite":
        return sorted(conn.execute(text(
            "SELECT rowid FROM crm_account_fts WHERE crm_account_fts MATCH :w"),
            {"w": f'"{word}"'}).scalars())
    return sorted(conn.execute(text(
        "SELECT id FROM crm_account WHERE search_text LIKE :w"), {"w": f"%{word}%"}).scalars())


def test_merge_columns_and_log_added_and_removed(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "0016_crm_duplicates"):
            flask_migrate.upgrade(revision=revision)
        owner = make_user("migrator", [])
        db.session.commit()
        owner_id = owner.id
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(text(ACCOUNT), {"id": 1, "name": "Alfa", "owner": owner_id,
                                         "search": "alfa", "at": T0})
        flask_migrate.upgrade(revision="0017_crm_merge")
        inspector = inspect(db.engine)
        assert "merged_into_id" in {c["name"] for c in inspector.get_columns("crm_account")}
        assert "merged_into_id" in {c["name"] for c in inspector.get_columns("crm_contact")}
        assert "crm_merge" in inspector.get_table_names()
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT merged_into_id FROM crm_account")).all() == [
                (None,)]
            conn.execute(text(ACCOUNT), {"id": 2, "name": "Beta", "owner": owner_id,
                                         "search": "beta", "at": T0})
            conn.execute(text("UPDATE crm_account SET merged_into_id = 1, archived = true "
                              "WHERE id = 2"))
            assert _found(conn, "alfa") == [1] and _found(conn, "beta") == [2]
        flask_migrate.downgrade(revision="0016_crm_duplicates")
        inspector = inspect(db.engine)
        assert "merged_into_id" not in {c["name"] for c in
                                        inspector.get_columns("crm_account")}
        assert "merged_into_id" not in {c["name"] for c in
                                        inspector.get_columns("crm_contact")}
        assert "crm_merge" not in inspector.get_table_names()
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE crm_account SET search_text = 'gama' WHERE id = 1"))
            assert _found(conn, "gama") == [1] and _found(conn, "beta") == [2]
        db.session.remove()
        db.engine.dispose()
