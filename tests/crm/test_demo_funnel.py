"""Issue 17, point 8: the demo's pipeline history is spread over weeks, so the funnel
report on demo data shows days in stage and a won cycle that are figures — above zero and
varied — for every stage, not 0,0 everywhere (changes that all happened at one instant)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from erp.auth.models import User
from erp.clock import local_today
from erp.db import db, utcnow
from erp.demo import load_demo
from modules.crm.models import Opportunity, OpportunityChange
from modules.crm.reports import funnel
from modules.crm.reports.filters import Filters


def test_demo_data_gives_the_funnel_report_varied_durations(app):
    with app.app_context(), app.test_request_context():
        load_demo()
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        today = local_today()
        report = funnel.funnel_report(
            admin, Filters(start=today - timedelta(days=400), end=today), utcnow())
        days = [stage.average_days for stage in report.stages]
        assert all(value is not None and value > 0 for value in days), days
        assert len(set(days)) > 1, days
        assert report.won and report.average_cycle_days and report.average_cycle_days > 1
        cycles = db.session.scalars(select(Opportunity.cycle_days)
                                    .where(Opportunity.cycle_days.is_not(None))).all()
        assert len({round(cycle, 1) for cycle in cycles}) > 1, cycles
        # The history itself spans weeks, not one instant.
        first, last = db.session.execute(select(func.min(OpportunityChange.at),
                                                func.max(OpportunityChange.at))).one()
        assert last - first > timedelta(days=14)
        # Every stage is someone's stay (the report's figures come from them).
        assert report.created == db.session.scalar(select(func.count(Opportunity.id)))
