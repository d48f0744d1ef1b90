"""The loss reasons report reads the period's losses once (issue 15): one GROUP BY by
reason and stage together, folded in Python into both of the report's groupings, the whole UTC
months from crm_loss_month (crm 0024), the edges from the (status, closed_at, owner,
reason, stage, value) index alone. Before, one statement per
grouping read the period again (2.7-3.0 ms each at 200,000 accounts for the manager)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from erp.auth.models import User
from erp.db import db
from erp.testing.queries import count_queries
from modules.crm.reports.filters import Filters
from modules.crm.reports.losses import losses_select
from tests.conftest import login_as
from tests.crm.plans import query_plan
from tests.crm.test_reports_losses import JANUARY, losses  # noqa: F401 (the fixture)

PAGES = [{}, {"format": "csv", "table": "stages"}, {"format": "csv", "table": "reasons"}]


@pytest.mark.usefixtures("losses")
@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_the_page_reads_the_opportunities_once(app, client, users, who):
    login_as(client, users[who])
    for page in PAGES:
        with count_queries(app) as statements:
            response = client.get("/crm/reports/losses", query_string={**JANUARY, **page})
            response.get_data()
        assert response.status_code == 200
        reads = [s for s in statements if "crm_opportunity" in s]
        assert len(reads) == 1, reads


@pytest.mark.usefixtures("losses")
@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_the_losses_are_read_from_the_index_alone(app, users, who):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's plan (PostgreSQL's: test_funnel_plans, the period's range)")
        user = db.session.get(User, users[who])
        plan = query_plan(losses_select(user, Filters(start=date(2026, 1, 1),
                                                      end=date(2026, 1, 31))))
        # Since crm 0024 the whole UTC months from crm_loss_month by month range, the
        # period's edges (local midnights) each a closed_at range of the covering index.
        reads = [line for line in plan.splitlines() if "crm_opportunity" in line]
        assert 1 <= len(reads) <= 2, plan
        assert all("COVERING INDEX" in line and "closed_at>? AND closed_at<?" in line
                   for line in reads), plan
        assert re.search(r"SEARCH crm_loss_month USING .*\(month>\? AND month<\?", plan), plan
