"""The loss reasons report (seed 004): what was lost, why, and at which stage.

The opportunities counted are those *lost in the period* (status lost, ``closed_at``
within it, in the viewer's time zone), owned by someone within the viewer's scope (and
the owner/team filters). One reopened since is not lost any more and does not count.
*Value* is the opportunity's estimated value; *stage where lost* is the stage it stood
in at the moment it was lost (``Opportunity.lost_stage_id``, recorded by the status
service, crm 0018, issue 19), not the one it stands in now: an edit of a closed
opportunity's stage does not move its loss. Losses whose stage is unknown (a deleted
stage) are one line without a name. Two GROUP BY queries, each over the period's losses
only (issue 15).
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


def _lost_by(column, user, filters: Filters):
    """The period's lost opportunities counted and summed by ``column``, read first (from
    the (status, closed_at, ...) index, crm 0009) and only then named: joined to the
    reasons or stages first, a report looped over them and read the period once each."""
    return (select(column.label("key"), func.count().label("lost"),
                   func.coalesce(func.sum(Opportunity.estimated_value), 0).label("value"))
            .where(*_where(user, filters))
            .group_by(column)
            .subquery("lost"))


def by_reason_select(user, filters: Filters):
    lost = _lost_by(Opportunity.loss_reason_id, user, filters)
    return (select(LossReason.id, LossReason.name, lost.c.lost, lost.c.value)
            .select_from(lost)
            .outerjoin(LossReason, LossReason.id == lost.c.key)
            .order_by(lost.c.lost.desc(), LossReason.name))


def by_stage_select(user, filters: Filters):
    lost = _lost_by(Opportunity.lost_stage_id, user, filters)
    return (select(Stage.id, Stage.name, lost.c.lost, lost.c.value)
            .select_from(lost)
            .outerjoin(Stage, Stage.id == lost.c.key)
            .order_by(Stage.id.is_(None), Stage.sequence, Stage.id))


def losses_report(user, filters: Filters) -> LossesReport:
    by_reason = _lines(db.session.execute(by_reason_select(user, filters)))
    by_stage = _lines(db.session.execute(by_stage_select(user, filters)))
    total = sum(line[2] for line in by_reason)
    total_value = sum((line[3] for line in by_reason), Decimal("0.00"))
    return LossesReport(
        by_reason=[LossLine(*line, percent(line[2], total)) for line in by_reason],
        by_stage=[LossLine(*line, percent(line[2], total)) for line in by_stage],
        lost=total, value=total_value)
