"""The look-ups a re-import adds per batch (issue 19) read indexes, whatever the tables'
size: accounts and opportunities by external reference, opportunities by account + title.

Seeded as a database looks before its first import with references: thousands of
accounts and opportunities, few of them with a reference, statistics taken (ANALYZE). The
reference's index then holds one value (NULL) for nearly every row, and SQLite's planner,
reading 500 references as 500 times that many rows, scanned the table for every batch
(admin), or read a big portfolio through the owner index (rep_a); the look-ups name the
index on SQLite (services/external_refs.py: external_ref_in). An empty *partial* index was no
answer: it has no statistics, which makes SQLite plan every query of a small table as if
it were large (tests/crm/test_import_plans.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from erp.auth.models import User
from erp.db import db
from erp.testing.app import make_user
from modules.crm.importers.accounts import accounts_by_external_ref_select
from modules.crm.importers.opportunities import (
    opportunities_by_ref_select,
    opportunities_by_title_select,
)
from tests.crm.plans import forget_statistics, full_scans, query_plan

ROWS = 20_000
OWNERS = 400  # other users, among whom half the accounts are spread
REFS = {f"R{n}" for n in range(0, 5000, 10)}  # 500 references, of which 50 exist
SERIES = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)")


@pytest.fixture
def grown(app, users, pipeline):
    """ROWS accounts, one opportunity each; one in a hundred with a reference. Half are
    rep_a's, the others spread over OWNERS more users: a rep whose portfolio is far above
    the average one, which is all the planner's statistics tell (SQLite read rep_a's
    whole portfolio through the owner index rather than look up the references)."""
    stage = min(pipeline["stages"].values())
    with app.app_context():
        make_user("owner0", [])
        db.session.commit()
        db.session.remove()
        with db.engine.begin() as conn:
            # OWNERS more users, copies of owner0 (the columns as the table has them).
            columns = [c["name"] for c in inspect(conn).get_columns("auth_user")
                       if c["name"] != "id"]
            unique = {"username": "'owner' || i", "email": "'owner' || i || '@example.com'",
                      "session_token": "'token' || i"}
            conn.execute(text(
                f"{SERIES} INSERT INTO auth_user ({', '.join(columns)}) SELECT "
                + ", ".join(unique.get(c, f"u.{c}") for c in columns)
                + " FROM n, auth_user u WHERE u.username = 'owner0'"), {"rows": OWNERS})
            first, last = conn.execute(text(
                "SELECT min(id), max(id) FROM auth_user WHERE username LIKE 'owner%'")).one()
            conn.execute(text(
                f"{SERIES} INSERT INTO crm_account (person_type, legal_name, owner_id, "
                "lifecycle, priority, archived, version, created_at, updated_at, search_text, "
                "external_ref) SELECT 'PJ', 'Conta ' || i, CASE WHEN i % 2 = 0 THEN :owner "
                "ELSE :first + i % (:last - :first + 1) END, 'prospect', false, false, "
                "1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '', CASE WHEN i % 100 = 0 THEN "
                "'R' || i END FROM n"), {"rows": ROWS, "owner": users["rep_a"],
                                         "first": first, "last": last})
            conn.execute(text(
                "INSERT INTO crm_opportunity (title, account_id, stage_id, owner_id, status, "
                "priority, estimated_value, archived, stage_entered_at, version, created_at, "
                "updated_at, external_ref) SELECT 'Licenças ' || id, id, :stage, owner_id, "
                "'open', false, 0, false, CURRENT_TIMESTAMP, 1, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP, external_ref FROM crm_account"), {"stage": stage})
            conn.execute(text("ANALYZE"))
        db.engine.dispose()  # new connections read the statistics
        yield
        forget_statistics()


@pytest.mark.usefixtures("grown")
@pytest.mark.parametrize("who", ["admin", "rep_a"])
def test_external_references_are_read_from_their_index(app, users, who):
    with app.app_context():
        user = db.session.get(User, users[who])
        plan = query_plan(accounts_by_external_ref_select(REFS, user))
        assert not full_scans(plan), plan
        assert "external_ref" in plan, plan  # looked up in its index, not filtered
        plan = query_plan(opportunities_by_ref_select(REFS, user))
        assert not full_scans(plan, "crm_opportunity"), plan
        assert "external_ref" in plan, plan
        db.session.remove()


@pytest.mark.usefixtures("grown")
@pytest.mark.parametrize("who", ["admin", "rep_a"])
def test_opportunities_by_title_are_read_through_their_accounts(app, users, who):
    titles = {f"Licenças {n}" for n in range(1, 501)}
    with app.app_context():
        user = db.session.get(User, users[who])
        plan = query_plan(opportunities_by_title_select(set(range(1, 501)), titles, user))
        assert not full_scans(plan, "crm_opportunity"), plan
        db.session.remove()
