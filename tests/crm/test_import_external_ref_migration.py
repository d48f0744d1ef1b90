"""CRM migration 0019 (issue 19): accounts and opportunities get an indexed external
reference (NULL for the existing ones, which keep everything else); the way back drops it."""

from __future__ import annotations

from datetime import datetime

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from tests.conftest import make_user

T0 = datetime(2026, 3, 2, 12)


def _insert(conn, table: str, values: dict) -> int:
    have = {c["name"] for c in inspect(conn).get_columns(table)}
    values = {key: value for key, value in values.items() if key in have}
    return conn.execute(text(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES "
        f"({', '.join(':' + key for key in values)}) RETURNING id"), values).scalar()


def _columns(table: str) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def _indexes(table: str) -> set[str]:
    """Every index of the table, the expression ones included (not reflected by SQLAlchemy
    on SQLite, hence the catalog)."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return set(conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"),
                {"t": table}).scalars())
        return set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = :t"),
                                {"t": table}).scalars())


def test_external_references_are_added_and_removed(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "0018_crm_stage_history"):
            flask_migrate.upgrade(revision=revision)
        owner = make_user("migrator19", [])
        db.session.commit()
        owner_id = owner.id
        db.session.remove()
        with db.engine.begin() as conn:
            account = _insert(conn, "crm_account", {
                "person_type": "PJ", "legal_name": "Antiga Ltda", "owner_id": owner_id,
                "lifecycle": "customer", "priority": False, "archived": False, "version": 1,
                "created_at": T0, "updated_at": T0, "name_key": "antiga ltda",
                "search_text": "antiga ltda", "city": "Recife"})
            stage = conn.execute(text("SELECT id FROM crm_stage ORDER BY sequence LIMIT 1")
                                 ).scalar()
            if stage is None:
                stage = _insert(conn, "crm_stage", {"name": "Prospecção", "sequence": 1})
            _insert(conn, "crm_opportunity", {
                "title": "Op", "account_id": account, "stage_id": stage, "owner_id": owner_id,
                "status": "open", "priority": False, "estimated_value": 0, "archived": False,
                "stage_entered_at": T0, "version": 1, "created_at": T0, "updated_at": T0})
        assert "external_ref" not in _columns("crm_account")
        before = {table: _indexes(table) for table in ("crm_account", "crm_opportunity")}

        flask_migrate.upgrade(revision="0019_crm_external_reference")
        for table in ("crm_account", "crm_opportunity"):
            assert "external_ref" in _columns(table)
            assert f"ix_{table}_external_ref" in _indexes(table)
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT legal_name, city, lifecycle, external_ref "
                                    "FROM crm_account")).one()
            assert tuple(row) == ("Antiga Ltda", "Recife", "customer", None)
            assert conn.execute(text("SELECT title, external_ref FROM crm_opportunity")
                                ).one() == ("Op", None)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE crm_account SET external_ref = '1001'"))

        flask_migrate.downgrade(revision="0018_crm_stage_history")
        for table in ("crm_account", "crm_opportunity"):
            assert "external_ref" not in _columns(table)
            assert _indexes(table) == before[table]  # the others all kept
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT legal_name, city FROM crm_account")).one() == (
                "Antiga Ltda", "Recife")
            assert conn.execute(text("SELECT count(*) FROM crm_opportunity")).scalar() == 1
        flask_migrate.upgrade(revision="0019_crm_external_reference")
        db.session.remove()
