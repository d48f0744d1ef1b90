"""The duplicate check reads indexes, whatever the table's size (issue 15)."""

from __future__ import annotations

import pytest

from erp.db import db
from modules.crm.services.accounts import duplicate_checks
from tests.crm.plans import full_scans, query_plan, small_statistics, sql  # noqa: F401


@pytest.mark.usefixtures("small_statistics")
def test_duplicate_check_by_phone_reads_the_phone_indexes(app):
    with app.app_context():
        values = {"phone": "+551133334444", "mobile": "+5511987654321"}
        for exclude_id in (None, 7):
            [(reason, statement, blocking)] = duplicate_checks(values, exclude_id)
            assert reason == "phone" and not blocking
            if db.engine.dialect.name == "sqlite":
                plan = query_plan(statement)
                assert not full_scans(plan), plan
                assert "ix_crm_account_phone" in plan and "ix_crm_account_mobile" in plan, plan
            else:  # the accounts joined to a UNION of the two lookups, no OR
                text = sql(statement)
                assert "UNION" in text and " OR " not in text, text
