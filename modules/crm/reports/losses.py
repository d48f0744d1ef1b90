"""The loss reasons report (seed 004): what was lost, why, and at which stage.

The opportunities counted are those *lost in the period* (status lost, ``closed_at``
within it, in the viewer's time zone), owned by someone within the viewer's scope (and
the owner/team filters). One reopened since is not lost any more and does not count.
*Value* is the opportunity's estimated value; *stage where lost* is the stage it stood
in at the moment it was lost (``Opportunity.lost_stage_id``, recorded by the status
service, crm 0018, issue 19), not the one it stands in now: an edit of a closed
opportunity's stage does not move its loss. Losses whose stage is unknown (a deleted
stage) are one line without a name. One query, by reason and stage together, folded in
Python into the two groupings (issue 15): the period's whole UTC months from the losses'
monthly aggregate (crm 0024), its partial edges from the opportunities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, union_all

from erp.db import db

from ..models import STATUS_LOST, LossMonth, LossReason, Opportunity, Stage
from .filters import Filters, people_clauses
from .funnel import percent, period_parts


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


def _losses_in(user, filters: Filters, start_at, end_before, sign: int):
    """The losses closed in [start_at, end_before) counted and summed (in cents) by
    reason and stage where lost (0: none), each figure times ``sign``: a closed_at range
    of the (status, closed_at, owner, reason, stage, value) index alone (crm 0009,
    0018)."""
    o = Opportunity
    return (select(func.coalesce(o.loss_reason_id, 0).label("reason_id"),
                   func.coalesce(o.lost_stage_id, 0).label("stage_id"),
                   (sign * func.count()).label("lost"),
                   (sign * func.coalesce(func.sum(func.round(o.estimated_value * 100)), 0)
                    ).label("value_cents"))
            .where(o.status == STATUS_LOST, o.closed_at >= start_at, o.closed_at < end_before,
                   *people_clauses(o.owner_id, user, filters))
            .group_by(o.loss_reason_id, o.lost_stage_id))


def _month_losses(user, filters: Filters, first: date, after: date):
    """The same for the whole UTC months [first, after), from the aggregate (crm 0024):
    a month range of its key, a few rows per month and owner whatever the losses."""
    m = LossMonth
    return (select(m.loss_reason_id.label("reason_id"), m.lost_stage_id.label("stage_id"),
                   func.sum(m.lost).label("lost"), func.sum(m.value_cents).label("value_cents"))
            .where(m.month >= first, m.month < after,
                   *people_clauses(m.owner_id, user, filters))
            .group_by(m.loss_reason_id, m.lost_stage_id))


def losses_select(user, filters: Filters):
    """The period's lost opportunities counted and summed (in cents) by reason and stage
    where lost (the few pairs there are), then named: both of the report's groupings,
    folded in Python (:func:`losses_report`). The period's whole UTC months from
    ``crm_loss_month`` (crm 0024, kept by triggers), only its partial edges from the
    opportunities' index, split as the funnel report splits its period
    (:func:`.funnel.period_parts`: at most about a month of losses read, whatever the
    period; issue 15, 10,000 losses year to date at 200,000 accounts). Counted first,
    named after: joined to the reasons or stages first, a report looped over them and
    read the period once each. A pair the parts add up to nothing is left out."""
    parts = period_parts(filters.start_at, filters.end_before)
    selects = []
    if parts.months:
        selects.append(_month_losses(user, filters, *parts.months))
    for start_at, end_before, sign in parts.ranges:
        selects.append(_losses_in(user, filters, start_at, end_before, sign))
    if not selects:  # an empty period: the statement still has the rows' shape
        selects = [_losses_in(user, filters, filters.start_at, filters.start_at, 1)]
    counted = (selects[0] if len(selects) == 1 else union_all(*selects)).subquery("parts")
    lost = (select(counted.c.reason_id, counted.c.stage_id,
                   func.sum(counted.c.lost).label("lost"),
                   func.sum(counted.c.value_cents).label("value_cents"))
            .group_by(counted.c.reason_id, counted.c.stage_id)
            .having(func.sum(counted.c.lost) != 0)
            .subquery("lost"))
    return (select(func.nullif(lost.c.reason_id, 0).label("reason_id"),
                   LossReason.name.label("reason"),
                   func.nullif(lost.c.stage_id, 0).label("stage_id"),
                   Stage.name.label("stage"), Stage.sequence, lost.c.lost, lost.c.value_cents)
            .select_from(lost)
            .outerjoin(LossReason, LossReason.id == lost.c.reason_id)
            .outerjoin(Stage, Stage.id == lost.c.stage_id))


def _fold(rows, key, name) -> dict:
    """{key: [name, lost, value]} summed over the (reason, stage) pairs."""
    folded: dict = {}
    for row in rows:
        line = folded.setdefault(key(row), [name(row), 0, Decimal(0)])
        line[1] += int(row.lost)
        line[2] += Decimal(int(round(row.value_cents or 0))).scaleb(-2)
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
