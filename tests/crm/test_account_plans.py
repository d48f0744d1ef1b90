"""The accounts list's sorts read an index in order, whatever the table's size (issue 15)."""

from __future__ import annotations

import pytest

from erp.db import db
from tests.crm.plans import full_scans, query_plan


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


@pytest.mark.parametrize("who", ["admin", "rep_a"])
@pytest.mark.parametrize("sort", ["-updated", "-created", "name"])
def test_list_sorts_read_an_index_in_order(app, users, sort, who):
    with app.app_context():
        for archived in ("0", "1"):  # the list shows the active or the archived ones
            plan = query_plan(_list_statement(users, f"sort={sort}&archived={archived}", who)
                         .limit(50), forbid_sort=True)
            assert not _sorts_in_memory(plan), plan
            assert not full_scans(plan), plan
