"""The funnel report's monthly aggregates (crm 0022, issue 15): the opportunities counted
by the UTC calendar month of their creation, owner, current stage, status and furthest
stage, and their stays by stage, month and owner, kept by database triggers in the same
transaction as the opportunities and stays.

``crm_funnel_month`` (month, owner_id, stage_id, status, furthest_stage_id) ->
opportunities (how many), value_cents (the sum of their estimated values, in cents: exact
on both databases), cycle_days (the sum of the won ones' cycles) and cycles (how many of
them have one). ``month`` is the first day of the month of ``created_at`` in UTC; a NULL
furthest stage is stored as 0 (the key is unique, and NULLs never equal each other in
one). The report (:mod:`..reports.funnel`) reads the whole UTC months of a period here, a
few rows per month whatever the number of opportunities, and only the period's partial
edges from ``crm_opportunity``.

Every write to ``crm_opportunity`` goes through the triggers, whoever makes it: the forms,
the API, the bulk import's ``executemany``, a merge, the summary's own refresh (furthest
stage after a stage is reordered or deleted, the cycle), deletes (the account's cascade
included). After an insert the new row's contribution is added (an upsert); after a
delete the old row's is subtracted; after an update of a column the aggregate depends on
(and only when one of them really changed: the trigger's WHEN) the old contribution is
subtracted and the new one added. A key whose opportunities all left keeps a row of
zeros (it adds nothing to a report).

``crm_funnel_stay_month`` (stage_id, month, owner_id) -> stays, days (the ended stays'
days), ongoing (how many stays go on) and since_days (the sum of those ones' starts, in
days from :data:`ORIGIN`): the report's days in stage up to its "as of" are then
``days + ongoing * (as_of - ORIGIN) - since_days``, summed over the whole months. Kept by
triggers on ``crm_opportunity_stay`` likewise (the summary's refresh deletes and inserts
stays; an opportunity's or a stage's deletion cascades to them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from erp.aggregates import Aggregate, cents, flag, utc_month
from erp.db import db

from .pipeline import Opportunity, OpportunityStay


class FunnelMonth(db.Model):
    """One (month, owner, stage, status, furthest stage)'s opportunities; written by the
    triggers only (see the module's docstring)."""

    __tablename__ = "crm_funnel_month"

    # The key in the report's order: one month range per (stage, status, furthest
    # stage), read in its GROUP BY's order (no sort), the owner read from the key too.
    stage_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(8), primary_key=True)
    furthest_stage_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: none
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: none
    opportunities: Mapped[int] = mapped_column(Integer, default=0)
    value_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    cycle_days: Mapped[float] = mapped_column(Float, default=0.0)
    cycles: Mapped[int] = mapped_column(Integer, default=0)


class FunnelStayMonth(db.Model):
    """The stays (crm_opportunity_stay) of one (stage, month of the opportunity's
    creation, owner): how many, their ended days, how many go on and the sum of those
    ones' starts in days from :data:`ORIGIN`; written by the triggers only."""

    __tablename__ = "crm_funnel_stay_month"

    stage_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: none
    stays: Mapped[int] = mapped_column(Integer, default=0)
    days: Mapped[float] = mapped_column(Float, default=0.0)
    ongoing: Mapped[int] = mapped_column(Integer, default=0)
    since_days: Mapped[float] = mapped_column(Float, default=0.0)


def _opportunity_values(row: str, dialect: str) -> dict[str, str]:
    """Each crm_funnel_month column's value for one opportunity row."""
    return {
        "month": utc_month(f"{row}.created_at", dialect),
        "owner_id": f"coalesce({row}.owner_id, 0)",
        "stage_id": f"{row}.stage_id",
        "status": f"{row}.status",
        "furthest_stage_id": f"coalesce({row}.furthest_stage_id, 0)",
        "opportunities": "1",
        "value_cents": cents(f"{row}.estimated_value", dialect),
        "cycle_days": f"coalesce({row}.cycle_days, 0.0)",
        "cycles": flag(f"{row}.cycle_days IS NOT NULL", dialect),
    }


OPPORTUNITIES = Aggregate(
    table="crm_funnel_month", source="crm_opportunity",
    key=("stage_id", "status", "furthest_stage_id", "month", "owner_id"),
    figures=("opportunities", "value_cents", "cycle_days", "cycles"),
    depends_on=("created_at", "owner_id", "stage_id", "status", "furthest_stage_id",
                "estimated_value", "cycle_days"),
    row_values=_opportunity_values)

# The days of the stays going on are counted up to the report's "as of": kept here as the
# sum of their starts, in days from this origin, so the report's total is
# days + ongoing x (as_of - ORIGIN) - since_days, all sums.
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


def _stay_values(row: str, dialect: str) -> dict[str, str]:
    """Each crm_funnel_stay_month column's value for one stay row (the days as
    ``erp.reports.days_between`` counts them)."""
    since_days = (f"julianday({row}.since) - julianday('2000-01-01')" if dialect == "sqlite"
                  else f"EXTRACT(EPOCH FROM ({row}.since - "
                       "TIMESTAMPTZ '2000-01-01 00:00:00+00')) / 86400.0")
    return {
        "stage_id": f"{row}.stage_id",
        "month": utc_month(f"{row}.created_at", dialect),
        "owner_id": f"coalesce({row}.owner_id, 0)",
        "stays": "1",
        "days": f"coalesce({row}.days, 0.0)",
        "ongoing": flag(f"{row}.since IS NOT NULL", dialect),
        "since_days": f"coalesce({since_days}, 0.0)",
    }


STAYS = Aggregate(
    table="crm_funnel_stay_month", source="crm_opportunity_stay",
    key=("stage_id", "month", "owner_id"),
    figures=("stays", "days", "ongoing", "since_days"),
    depends_on=("stage_id", "created_at", "owner_id", "days", "since"),
    row_values=_stay_values)

AGGREGATES = (OPPORTUNITIES, STAYS)


OPPORTUNITIES.install(FunnelMonth, Opportunity)
STAYS.install(FunnelStayMonth, OpportunityStay)
