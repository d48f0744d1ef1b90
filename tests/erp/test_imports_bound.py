"""Bulk inserts with their parameters bound before they run (erp.imports.bulk._ready,
issue 15): on SQLite the statement that takes the write lock holds it for SQLite's work
alone. What is stored must be what SQLAlchemy's own executemany stores."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select

from erp.audit import AuditEntry
from erp.db import db
from erp.imports.bulk import _ready
from modules.crm.models import Account

ACCOUNTS = [
    {"id": 900_001, "person_type": "PJ", "legal_name": "Ação Ltda", "trade_name": None,
     "tax_id": "11222333000181", "tax_id_root": "11222333", "name_key": "acao",
     "owner_id": 1, "lifecycle": "customer", "priority": True, "archived": False,
     "opened_on": date(2001, 12, 31), "phone": "+551132221000", "search_text": "acao ltda",
     "version": 1, "created_at": datetime(2026, 11, 30, 12, 0, 1, 5, tzinfo=UTC),
     "updated_at": datetime(2026, 11, 30, 9, 0, tzinfo=UTC)},
    {"id": 900_002, "person_type": "PF", "legal_name": "Maria", "trade_name": "M",
     "tax_id": None, "tax_id_root": None, "name_key": "maria", "owner_id": 1,
     "lifecycle": "prospect", "priority": False, "archived": True, "opened_on": None,
     "phone": None, "search_text": "", "version": 1,
     "created_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
     "updated_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)},
]
ENTRIES = [
    {"action": "create", "table_name": "crm_account", "record_id": "900001",
     "record_label": "Ação", "changes": {"legal_name": [None, "Ação Ltda"], "tags": [None, "a"]},
     "parent_table": None, "parent_id": None, "at": datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
     "user_id": 1, "user_name": "Admin"},
    {"action": "create", "table_name": "crm_account", "record_id": "900002",
     "record_label": "M", "changes": {}, "parent_table": "x", "parent_id": "1",
     "at": datetime(2026, 11, 30, 12, 0, tzinfo=UTC), "user_id": None, "user_name": None},
]


def _stored(connection, table, key, ids):
    """The rows as SQLite holds them (text, numbers), not as the types read them back."""
    names = ", ".join(f'"{c.name}"' for c in table.columns if c.name != "id")
    rows = connection.exec_driver_sql(
        f"SELECT {names} FROM {table.name} WHERE {key} IN ({', '.join('?' * len(ids))}) "  # noqa: S608 - names from the models
        f"ORDER BY {key}", tuple(ids)).all()
    return [tuple(row) for row in rows]


def test_what_is_bound_before_is_what_sqlalchemy_stores(app, users):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's write lock; elsewhere SQLAlchemy's executemany as before")
        connection = db.session.connection()
        statements = []

        def on_statement(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", on_statement)
        try:
            run = _ready(connection, Account.__table__, [dict(row) for row in ACCOUNTS])
            audit = _ready(connection, AuditEntry.__table__, [dict(e) for e in ENTRIES])
            assert statements == []  # made ready: nothing run yet
            run()
            audit()
            assert [s.split()[:3] for s in statements] == [
                ["INSERT", "INTO", "crm_account"], ["INSERT", "INTO", "erp_audit_entry"]]
        finally:
            event.remove(db.engine, "before_cursor_execute", on_statement)
        bound = (_stored(connection, Account.__table__, "id", [900_001, 900_002]),
                 _stored(connection, AuditEntry.__table__, "record_id", ["900001", "900002"]))
        db.session.rollback()
        connection = db.session.connection()
        connection.execute(Account.__table__.insert(), ACCOUNTS)
        connection.execute(AuditEntry.__table__.insert(), ENTRIES)
        by_sqlalchemy = (
            _stored(connection, Account.__table__, "id", [900_001, 900_002]),
            _stored(connection, AuditEntry.__table__, "record_id", ["900001", "900002"]))
        assert bound == by_sqlalchemy
        assert db.session.scalar(select(AuditEntry.changes).where(
            AuditEntry.record_id == "900001")) == ENTRIES[0]["changes"]
        db.session.rollback()
        db.session.remove()
