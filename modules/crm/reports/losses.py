"""The loss reasons report (seed 004): what was lost, why, and at which stage.

The opportunities counted are those *lost in the period* (status lost, ``closed_at``
within it, in the viewer's time zone), owned by someone within the viewer's scope (and
the owner/team filters). One reopened since is not lost any more and does not count.
*Value* is the opportunity's estimated value; *stage where lost* is the stage it stood
in at the moment it was lost (``Opportunity.lost_stage_id``, recorded by the status
service, crm 0018, issue 19), not the one it stands in now: an edit of a closed
opportunity's stage does not move its loss. Losses whose stage is unknown (a deleted
stage) are one line without a name. One GROUP BY query over the period's losses only,
by reason and stage together, folded in Python into the two groupings (issue 15).
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


def losses_select(user, filters: Filters):
    """The period's lost opportunities counted and summed by reason and stage where lost
    (the few pairs there are), then named: both of the report's groupings, folded in
    Python (:func:`losses_report`), from one read of the period's losses in the
    (status, closed_at, owner, reason, stage, value) index alone (crm 0009, 0018) —
    before, each grouping read the period again (issue 15: 2.7-3.0 ms each at 200,000
    accounts). Counted first, named after: joined to the reasons or stages first, a
    report looped over them and read the period once each."""
    lost = (select(Opportunity.loss_reason_id.label("reason_id"),
                   Opportunity.lost_stage_id.label("stage_id"),
                   func.count().label("lost"),
                   func.coalesce(func.sum(Opportunity.estimated_value), 0).label("value"))
            .where(*_where(user, filters))
            .group_by(Opportunity.loss_reason_id, Opportunity.lost_stage_id)
            .subquery("lost"))
    return (select(lost.c.reason_id, LossReason.name.label("reason"), lost.c.stage_id,
                   Stage.name.label("stage"), Stage.sequence, lost.c.lost, lost.c.value)
            .select_from(lost)
            .outerjoin(LossReason, LossReason.id == lost.c.reason_id)
            .outerjoin(Stage, Stage.id == lost.c.stage_id))


def _fold(rows, key, name) -> dict:
    """{key: [name, lost, value]} summed over the (reason, stage) pairs."""
    folded: dict = {}
    for row in rows:
        line = folded.setdefault(key(row), [name(row), 0, Decimal(0)])
        line[1] += int(row.lost)
        line[2] += Decimal(str(row.value or 0))
    return folded


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def losses_report(user, filters: Filters) -> LossesReport:
    rows = db.session.execute(losses_select(user, filters)).all()
    reasons = _fold(rows, lambda r: r.reason_id, lambda r: r.reason)
    # the reasons: most lost first, then by name (a reason without a name: first of ties)
    by_reason = sorted(((key, name, lost, _money(value))
                        for key, (name, lost, value) in reasons.items()),
                       key=lambda line: (-line[2], line[1] is not None, line[1] or ""))
    sequence = {row.stage_id: row.sequence for row in rows}
    stages = _fold(rows, lambda r: r.stage_id, lambda r: r.stage)
    # the stages in the funnel's order; an unknown (deleted) stage last
    by_stage = sorted(((key, name, lost, _money(value))
                       for key, (name, lost, value) in stages.items()),
                      key=lambda line: (line[1] is None, sequence.get(line[0]) or 0,
                                        line[0] or 0))
    total = sum(line[2] for line in by_reason)
    total_value = sum((line[3] for line in by_reason), Decimal("0.00"))
    return LossesReport(
        by_reason=[LossLine(*line, percent(line[2], total)) for line in by_reason],
        by_stage=[LossLine(*line, percent(line[2], total)) for line in by_stage],
        lost=total, value=total_value)
