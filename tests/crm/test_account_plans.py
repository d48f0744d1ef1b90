"""The accounts list's sorts read an index in order, whatever the table's size (issue 15)."""

from __future__ import annotations

import re

import pytest

from erp.db import db
from tests.crm.plans import (  # noqa: F401
    default_statistics,
    full_scans,
    query_plan,
    small_statistics,
    sql,
)


def _list_statement(users, query_string: str, who: str = "admin"):
    """The accounts list's SELECT for a request, as ``who`` sees it."""
    from flask import current_app
    from flask_login import login_user

    from erp.auth.models import User
    from modules.crm.views.accounts import _filtered_accounts

    with current_app.test_request_context(f"/crm/accounts?{query_string}"):
        login_user(db.session.get(User, users[who]))
        return _filtered_accounts()


def _sorts_in_memory(plan: str) -> list[str]:
    """The plan's steps that sort rows the index did not hand over in order."""
    if db.engine.dialect.name == "sqlite":
        return [line for line in plan.splitlines() if "TEMP B-TREE FOR ORDER BY" in line]
    return [line for line in plan.splitlines()
            if "Sort" in line and "Incremental Sort" not in line and "Sort Key" not in line]


@pytest.mark.usefixtures("default_statistics")
@pytest.mark.parametrize("who", ["admin", "rep_a"])
@pytest.mark.parametrize("sort", ["-updated", "-created", "name"])
def test_list_sorts_read_an_index_in_order(app, users, sort, who):
    """Walked in the sort's order (the LIMIT then stops the walk early), never sorted."""
    with app.app_context():
        for archived in ("0", "1"):  # the list shows the active or the archived ones
            plan = query_plan(_list_statement(users, f"sort={sort}&archived={archived}", who)
                         .limit(50), forbid_sort=True)
            assert not _sorts_in_memory(plan), plan


def _reads_of_accounts(plan: str) -> list[str]:
    """How the plan reads crm_account itself (its trigram index aside)."""
    if db.engine.dialect.name == "sqlite":
        return [line.strip() for line in plan.splitlines()
                if line.strip().startswith(("SCAN crm_account", "SEARCH crm_account"))
                and "crm_account_fts" not in line]
    return [line.strip() for line in plan.splitlines() if " on crm_account" in line]


SEARCHES = {"name": "silva", "cnpj": "11.222.333/0001-81", "formatted phone": "(11) 3333"}


@pytest.mark.usefixtures("small_statistics")
@pytest.mark.parametrize("who", ["admin", "rep_a"])
@pytest.mark.parametrize("sort", ["name", "-updated"])
@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_searched_list_is_driven_by_the_matches(app, users, search, sort, who):
    """The tax id and the trigram index find the matches; the accounts are then read by
    id (never by walking an index of the whole table, probing the matches)."""
    with app.app_context():
        statement = _list_statement(users, f"q={SEARCHES[search]}&sort={sort}", who)
        plan = query_plan(statement.limit(50))
        if db.engine.dialect.name == "sqlite":
            assert not full_scans(plan), plan
            reads = _reads_of_accounts(plan)
            # Each a lookup of one account: by id (an index starting with archived may
            # serve it: "archived=? AND id=?"), or by tax id.
            assert reads, plan
            assert all(re.search(r"\b(rowid|id|tax_id)=\?", read) for read in reads), plan
            if search == "cnpj":  # a whole CNPJ: by its tax id, not its digit trigrams
                assert "_fts" not in plan, plan
        else:  # the accounts read by id from the matches, run first (see plans.sql), no OR
            text = sql(statement)
            assert " OR crm_account.id IN" not in text, text
            assert "crm_account.id = ANY (array((SELECT" in text, text
            if search == "cnpj":
                assert "search_text LIKE" not in text, text
            else:  # the tax id is in the search text: the trigram index alone finds it
                assert "search_text LIKE" in text and "UNION" not in text, text
