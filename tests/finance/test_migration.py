"""Finance's Alembic branch builds exactly the tables its models describe, with only
CRM (and the host) below it: no sibling module needed."""

from __future__ import annotations

from sqlalchemy import inspect

from erp.db import db
from erp.setup import upgrade_database
from tests.erp import test_migrations


def _finance_only(diff) -> list:
    """The differences that concern finance's tables."""
    return [d for d in diff if "finance_" in repr(d)]


def test_finance_migrates_alone_over_crm(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url, ERP_MODULES=["crm", "finance"])
    assert "finance" in upgrade_database(app)
    assert _finance_only(test_migrations.schema_diff(app)) == []
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"finance_receivable", "finance_payment"} <= tables
        assert not any(t.startswith(("sales_", "service_")) for t in tables)
        db.engine.dispose()
