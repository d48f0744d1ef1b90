"""The scoped lists of actions and contacts read an index in the order they page, for
every scope (issue 15).

The statements the API and the search really run are captured and explained with their
own parameters (``EXPLAIN QUERY PLAN`` on SQLite; ``EXPLAIN`` on PostgreSQL with
sequential scans forbidden, so a tiny test table still shows what an index can answer).
Structural checks only, never timings.
"""

from __future__ import annotations

import pytest

from erp.db import db
from modules.crm.services import scope
from tests.crm.api_support import api_as
from tests.crm.plans import default_statistics  # noqa: F401 (a fixture)
from tests.reporting import captured

SCOPES = ["admin", "manager", "rep_a"]  # all, team, own


@pytest.fixture(autouse=True)
def _no_statistics(default_statistics):  # noqa: F811
    """Plans as on a grown table: an earlier test's ANALYZE of a few rows (an import's)
    would make reading every row look free."""


def _plan(app, statement: str, parameters) -> tuple[str, str]:
    """The database's name and its plan of ``statement``."""
    with app.app_context(), db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "sqlite", "\n".join(str(row[-1]) for row in rows)
        # A few rows are cheaper to sort than to walk in order: forbid sequential scans
        # and sorts, so the plan shows whether the index can answer in order at all.
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_sort = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        return "postgresql", "\n".join(row[0] for row in rows)


def _the(seen, table: str, needle: str):
    [found] = [(sql, params) for sql, params in seen
               if f"FROM {table}" in sql and needle in sql]
    return found


@pytest.fixture
def world(app, users, make_account, make_contact):
    """A few accounts of each rep with a contact each, and actions on them."""
    for owner in ("rep_a", "rep_b", "rep_c", "manager"):
        account_id = make_account(owner, legal_name=f"Silva {owner} Ltda.")
        make_contact(owner, account_id=account_id, name=f"Maria Silva {owner}")
        make_contact(owner, name=f"João Silva {owner}")


@pytest.mark.parametrize("who", SCOPES)
def test_the_actions_list_walks_the_id_index(app, client, users, world, who, monkeypatch):
    # A scope of a few accounts is listed from them (the test below): make every scope
    # "large" here, as a manager's or a rep's is at scale.
    monkeypatch.setattr(scope, "SMALL_SCOPE", 0)
    api = api_as(app, client, users, who)
    with captured(app) as seen:
        assert api.get("/actions", query_string={"limit": 50}).status_code == 200
        assert api.get("/actions", query_string={"limit": 50, "after": 3}).status_code == 200
    statements = [(sql, params) for sql, params in seen
                  if "FROM crm_action" in sql and "ORDER BY" in sql]
    assert len(statements) == 2, seen
    for sql, params in statements:
        dialect, plan = _plan(app, sql, params)
        if dialect == "sqlite":
            # Read in id order and stopped at the page's end: no sort of every visible action.
            assert "TEMP B-TREE" not in plan, plan
            assert plan.splitlines()[0].startswith("SCAN crm_action") or (
                "crm_action USING INTEGER PRIMARY KEY" in plan), plan
        else:
            assert "Sort" not in plan, plan
            assert "Index Scan using pk_crm_action on crm_action " in plan, plan
            # The scope's account read per action, by its id: not every visible account
            # read and hashed first (as an EXISTS or IN let PostgreSQL do).
            lines = plan.splitlines()
            for n, line in enumerate(lines):
                if " on crm_account  (" in line:  # the subquery's (the page's is aliased)
                    # "Index Cond", or a bitmap's "Recheck Cond": either way by the id
                    assert "Cond: (id = crm_action.account_id)" in lines[n + 1], plan


def test_a_small_scope_lists_its_actions_from_its_accounts(app, client, users, world):
    """A new rep's few accounts are read through the owner index, their actions gathered
    from them: a walk in id order would pass over nearly every action of the others."""
    api = api_as(app, client, users, "rep_a")
    with captured(app) as seen:
        assert api.get("/actions", query_string={"limit": 50}).status_code == 200
    dialect, plan = _plan(app, *_the(seen, "crm_action", "ORDER BY"))
    assert "ix_crm_account_owner_id" in plan, plan
    if dialect == "sqlite":
        assert "SCAN crm_action" not in plan, plan


def _contact_scope_read_from_the_contact(dialect: str, plan: str) -> None:
    """The contact scope's account links are read from the contact (its links by
    contact_id, each account by its primary key), never by walking the user's accounts."""
    if dialect == "sqlite":
        assert "SCAN crm_account " not in plan + " " and "ix_crm_account_owner_id" not in plan, plan
        links = [line for line in plan.splitlines() if "crm_account_contact" in line]
        assert all("ix_crm_account_contact_contact_id (contact_id=?)" in line
                   for line in links), plan
    else:
        assert "ix_crm_account_owner_id" not in plan, plan
        assert "Seq Scan on crm_account" not in plan, plan
        links = [line for line in plan.splitlines() if "on crm_account_contact" in line]
        assert all("ix_crm_account_contact_contact_id" in line for line in links), plan


@pytest.mark.parametrize("who", SCOPES)
def test_the_contacts_list_reads_links_from_each_contact(app, client, users, world, who,
                                                          monkeypatch):
    monkeypatch.setattr(scope, "SMALL_SCOPE", 0)  # every scope "large", as at scale
    api = api_as(app, client, users, who)
    with captured(app) as seen:
        assert api.get("/contacts", query_string={"limit": 50}).status_code == 200
    dialect, plan = _plan(app, *_the(seen, "crm_contact", "ORDER BY"))
    _contact_scope_read_from_the_contact(dialect, plan)
    if dialect == "sqlite":
        assert "TEMP B-TREE" not in plan, plan
    else:
        assert "Sort" not in plan, plan


@pytest.mark.parametrize("who", SCOPES)
def test_the_contact_search_reads_links_from_each_contact(app, users, world, who, monkeypatch):
    from erp.auth.models import User

    monkeypatch.setattr(scope, "SMALL_SCOPE", 0)
    from modules.crm.services.search import search_contacts

    with app.app_context():
        user = db.session.get(User, users[who])
        with captured(app) as seen:
            assert search_contacts("silva", user)
        db.session.remove()
    dialect, plan = _plan(app, *_the(seen, "crm_contact", "ORDER BY"))
    _contact_scope_read_from_the_contact(dialect, plan)


def test_a_small_scope_gathers_its_contacts_from_its_accounts(app, client, users, world):
    """A new rep's few accounts are read through the owner index and their contacts
    gathered once: testing each contact's links would pass over every contact."""
    api = api_as(app, client, users, "rep_a")
    with captured(app) as seen:
        assert api.get("/contacts", query_string={"limit": 50}).status_code == 200
    dialect, plan = _plan(app, *_the(seen, "crm_contact", "ORDER BY"))
    if dialect == "sqlite":
        assert "ix_crm_account_owner_id" in plan, plan
        assert "ix_crm_account_contact_contact_id (contact_id=?)" not in plan, plan
    else:  # the visible accounts' contacts are gathered once, not tested per contact
        assert "hashed SubPlan" in plan, plan


@pytest.mark.parametrize("who", SCOPES)
def test_both_contact_scopes_see_the_same_contacts(app, users, world, who, make_account,
                                                   make_contact, monkeypatch):
    """The small-scope and the large-scope forms are one rule: the same contacts, for
    every scope (own, linked to an account in scope, neither)."""
    from erp.auth.models import User
    from modules.crm.models import Contact

    theirs = make_account("rep_b", legal_name="Outra Ltda.")
    make_contact("rep_b", account_id=theirs, name="Linked to rep_b only")
    mine = make_account("rep_a", legal_name="Minha Ltda.")
    make_contact("rep_b", account_id=mine, name="rep_b's contact on rep_a's account")
    seen = {}
    with app.app_context():
        user = db.session.get(User, users[who])
        for limit in (10**9, 0):  # every scope small, then every scope large
            monkeypatch.setattr(scope, "SMALL_SCOPE", limit)
            seen[limit] = set(db.session.scalars(
                db.select(Contact.name).where(scope.contact_scope(user))))
        db.session.remove()
    assert seen[10**9] == seen[0]
    if who == "rep_a":
        assert "rep_b's contact on rep_a's account" in seen[0]
        assert "Linked to rep_b only" not in seen[0]
