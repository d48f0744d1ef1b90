"""The duplicate check reads indexes, whatever the table's size (issue 15)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from erp.db import db
from modules.crm.services.accounts import duplicate_checks
from tests.crm.plans import full_scans, query_plan


@pytest.fixture
def small_statistics(app, make_account):
    """Planner statistics taken on a few accounts (as after setup, before the table
    grows): SQLite then prefers walking the table in id order to an OR of two lookups."""
    for n in range(3):
        make_account(legal_name=f"Conta {n}", phone=f"(11) 3333-444{n}")
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            db.engine.dispose()  # new connections read the statistics
        yield
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as conn:
                conn.execute(text("DELETE FROM sqlite_stat1"))
            db.engine.dispose()


def test_duplicate_check_by_phone_reads_the_phone_indexes(app, small_statistics):
    with app.app_context():
        values = {"phone": "+551133334444", "mobile": "+5511987654321"}
        for exclude_id in (None, 7):
            [(reason, statement, blocking)] = duplicate_checks(values, exclude_id)
            assert reason == "phone" and not blocking
            plan = query_plan(statement)
            assert not full_scans(plan), plan
            assert "ix_crm_account_phone" in plan and "ix_crm_account_mobile" in plan, plan
