"""The loss reasons report's monthly aggregate (crm 0024, issue 15): the lost opportunities
counted by the UTC calendar month of their closing, owner, loss reason and stage where
lost, kept by database triggers in the same transaction as the opportunities (the
:class:`erp.aggregates.Aggregate` spec, as the funnel report's).

``crm_loss_month`` (month, owner_id, loss_reason_id, lost_stage_id) -> lost (how many)
and value_cents (the sum of their estimated values, in cents: exact on both databases).
``month`` is the first day of the month of ``closed_at`` in UTC; a NULL owner, reason or
stage is stored as 0 (the key is unique, and NULLs never equal each other in one). An
opportunity counts while its status is lost (and it has a closing time, as every lost
one the services write does): the update trigger subtracts and adds again when its
status, closing time, owner, reason, lost stage or value changes, so a reopening takes it
out and a new loss puts it in its new month. The report (:mod:`..reports.losses`) reads
the whole UTC months of a period here, a few rows per month whatever the number of
losses, and only the period's partial edges from ``crm_opportunity``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from erp.aggregates import Aggregate, cents, utc_month
from erp.db import db

from .pipeline import Opportunity


class LossMonth(db.Model):
    """One (month, owner, reason, stage where lost)'s lost opportunities; written by the
    triggers only (see the module's docstring)."""

    __tablename__ = "crm_loss_month"

    # The month first: the report reads a month range, the owners within it.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: none
    loss_reason_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: none
    lost_stage_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: unknown
    lost: Mapped[int] = mapped_column(Integer, default=0)
    value_cents: Mapped[int] = mapped_column(BigInteger, default=0)


def _loss_values(row: str, dialect: str) -> dict[str, str]:
    """Each crm_loss_month column's value for one lost opportunity row."""
    return {
        "month": utc_month(f"{row}.closed_at", dialect),
        "owner_id": f"coalesce({row}.owner_id, 0)",
        "loss_reason_id": f"coalesce({row}.loss_reason_id, 0)",
        "lost_stage_id": f"coalesce({row}.lost_stage_id, 0)",
        "lost": "1",
        "value_cents": cents(f"{row}.estimated_value", dialect),
    }


def _is_lost(row: str) -> str:
    return f"{row}.status = 'lost' AND {row}.closed_at IS NOT NULL"


LOSSES = Aggregate(
    table="crm_loss_month", source="crm_opportunity", name="loss_month",
    key=("month", "owner_id", "loss_reason_id", "lost_stage_id"),
    figures=("lost", "value_cents"),
    depends_on=("status", "closed_at", "owner_id", "loss_reason_id", "lost_stage_id",
                "estimated_value"),
    row_values=_loss_values, counts=_is_lost)

AGGREGATES = (LOSSES,)


LOSSES.install(LossMonth, Opportunity)
