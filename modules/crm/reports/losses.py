"""The loss reasons report (seed 004): what was lost, why, and at which stage.

The opportunities counted are those *lost in the period* (status lost, ``closed_at``
within it, in the viewer's time zone), owned by someone within the viewer's scope (and
the owner/team filters). One reopened since is not lost any more and does not count.
*Value* is the opportunity's estimated value; *stage where lost* is the stage it stands
in: the funnel does not move closed opportunities, so that is where it was lost (unless
someone edited a closed opportunity's stage afterwards). Two GROUP BY queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from erp.db import db

from ..models import STATUS_LOST, LossReason, Opportunity, Stage
from .filters import Filters, people_clauses
from .funnel import percent


@dataclass(frozen=True)
class LossLine:
    key: int | None  # the reason's (or stage's) id; None: no reason recorded
    name: str | None
    lost: int
    value: Decimal
    share: Decimal | None  # % of the lost opportunities


@dataclass(frozen=True)
class LossesReport:
    by_reason: list[LossLine]
    by_stage: list[LossLine]
    lost: int
    value: Decimal

    @property
    def is_empty(self) -> bool:
        return self.lost == 0


def _where(user, filters: Filters) -> list:
    return [Opportunity.status == STATUS_LOST,
            Opportunity.closed_at >= filters.start_at,
            Opportunity.closed_at < filters.end_before,
            *people_clauses(Opportunity.owner_id, user, filters)]


def _lines(rows) -> list[tuple]:
    return [(row.id, row.name, int(row.lost), Decimal(str(row.value or 0)).quantize(
        Decimal("0.01"))) for row in rows]


def losses_report(user, filters: Filters) -> LossesReport:
    lost = func.count(Opportunity.id).label("lost")
    value = func.coalesce(func.sum(Opportunity.estimated_value), 0).label("value")
    by_reason = _lines(db.session.execute(
        select(LossReason.id, LossReason.name, lost, value)
        .select_from(Opportunity)
        .outerjoin(LossReason, LossReason.id == Opportunity.loss_reason_id)
        .where(*_where(user, filters))
        .group_by(LossReason.id, LossReason.name)
        .order_by(lost.desc(), LossReason.name)))
    by_stage = _lines(db.session.execute(
        select(Stage.id, Stage.name, lost, value)
        .select_from(Opportunity)
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(*_where(user, filters))
        .group_by(Stage.id, Stage.name, Stage.sequence)
        .order_by(Stage.sequence, Stage.id)))
    total = sum(line[2] for line in by_reason)
    total_value = sum((line[3] for line in by_reason), Decimal("0.00"))
    return LossesReport(
        by_reason=[LossLine(*line, percent(line[2], total)) for line in by_reason],
        by_stage=[LossLine(*line, percent(line[2], total)) for line in by_stage],
        lost=total, value=total_value)
