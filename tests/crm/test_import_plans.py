"""What the accounts importer looks up per batch reads indexes, whatever the table's size
(issue 15): an import of 100,000 rows runs each look-up 400 times (check and write pass)
on a table that grows to 100,000 accounts."""

from __future__ import annotations

import pytest

from erp.auth.models import User
from erp.db import db
from modules.crm.importers.accounts import similar_phones_select
from tests.crm.plans import full_scans, query_plan, small_statistics, sql  # noqa: F401


@pytest.mark.usefixtures("small_statistics")
def test_similar_phones_of_a_batch_are_read_from_the_phone_indexes(app, users):
    phones = {f"+55113333{n:04d}" for n in range(500)} | {"+5511987654321"}
    with app.app_context():
        for who in ("admin", "rep_a"):
            user = db.session.get(User, users[who])
            statement = similar_phones_select(phones, user)
            if db.engine.dialect.name == "sqlite":
                plan = query_plan(statement)
                assert not full_scans(plan), plan
                assert "ix_crm_account_phone" in plan and "ix_crm_account_mobile" in plan, plan
            else:  # the accounts joined to a UNION of the two lookups, no OR (a table of
                # a few rows gets whatever join is cheapest for them: see plans.sql)
                text = sql(statement)
                assert "UNION" in text and " OR " not in text, text[:300]
        db.session.remove()
