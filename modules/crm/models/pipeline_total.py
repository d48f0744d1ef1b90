"""The open pipeline's totals (crm 0023, issue 15): the opportunities counted by status,
archived or not, owner and stage, kept by database triggers in the same transaction as
the opportunities (the :class:`erp.aggregates.Aggregate` spec, as the funnel report's).

``crm_pipeline_total`` (status, archived, owner_id, stage_id) -> opportunities (how
many) and value_cents (the sum of their estimated values, in cents: exact on both
databases). A NULL owner is stored as 0 (no user has that id, so a scope or an owner
filter on the owner never names it; the scope "all" takes it, as it takes the
opportunity). The key leads with what the readers fix (open, kept), then the owner: a
user's open opportunities by stage are one range of it, a handful of rows whatever
their number, in the stages' order; a team's, one range per member.

Readers: the home page's "my open opportunities by stage" (:mod:`..dashboard`) and the
funnel kanban's columns' count and value (:mod:`..views.funnel`) when its filters are
expressible on the key (scope and owner; a tag, an account, priority or a search still
count the opportunities themselves).

Every write to ``crm_opportunity`` goes through the triggers, whoever makes it (forms,
API, bulk, import, merge, raw SQL, an account's cascade); the update trigger fires only
when status, archived, owner, stage or estimated value really changed. A key whose
opportunities all left keeps a row of zeros (it adds nothing).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from erp.aggregates import Aggregate, cents
from erp.db import db

from .pipeline import Opportunity


class PipelineTotal(db.Model):
    """One (status, archived, owner, stage)'s opportunities; written by the triggers only
    (see the module's docstring)."""

    __tablename__ = "crm_pipeline_total"

    status: Mapped[str] = mapped_column(String(8), primary_key=True)
    archived: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: none
    stage_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunities: Mapped[int] = mapped_column(Integer, default=0)
    value_cents: Mapped[int] = mapped_column(BigInteger, default=0)


def _total_values(row: str, dialect: str) -> dict[str, str]:
    """Each crm_pipeline_total column's value for one opportunity row."""
    return {
        "status": f"{row}.status",
        "archived": f"{row}.archived",
        "owner_id": f"coalesce({row}.owner_id, 0)",
        "stage_id": f"{row}.stage_id",
        "opportunities": "1",
        "value_cents": cents(f"{row}.estimated_value", dialect),
    }


PIPELINE_TOTALS = Aggregate(
    table="crm_pipeline_total", source="crm_opportunity", name="pipeline_total",
    key=("status", "archived", "owner_id", "stage_id"),
    figures=("opportunities", "value_cents"),
    depends_on=("status", "archived", "owner_id", "stage_id", "estimated_value"),
    row_values=_total_values)

AGGREGATES = (PIPELINE_TOTALS,)


PIPELINE_TOTALS.install(PipelineTotal, Opportunity)
