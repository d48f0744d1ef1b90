"""The home page's CRM widgets (my agenda, my open opportunities by stage) run statements
built once per process, the user, the day's bounds and the number shown bound when run
(issue 15's throughput). Structural: the very same statement objects on every view, for
every user; no timings."""

from __future__ import annotations

import pytest

from modules.crm.dashboard import AGENDA_COUNTS, AGENDA_FIRST, PIPELINE
from tests.conftest import login_as
from tests.erp.test_statement_reuse import orm_statements


@pytest.mark.parametrize("role", ["rep_a", "manager", "admin"])
def test_the_crm_widgets_run_the_same_statements_on_every_view(app, client, users, role):
    login_as(client, users[role])
    for _ in range(2):
        with orm_statements() as seen:
            assert client.get("/").status_code == 200
        for statement in (AGENDA_COUNTS, AGENDA_FIRST, PIPELINE):
            assert sum(s is statement for s in seen) == 1
