"""The funnel report: how the opportunities of a period went through the stages.

Definitions (what every figure means, exactly):

- **The opportunities** are those *created* in the period (``Opportunity.created_at``
  within it, in the viewer's time zone), owned by someone within the viewer's record
  scope (and the owner/team filters). Archived ones count: archiving hides, it does not
  undo history. Every figure below is about this cohort.
- **Stage order** is the funnel's: ``Stage.sequence``, then id.
- **Reached** a stage: the opportunity entered that stage or a later one at some point
  (skipping a stage counts as passing it), or it was won (a won deal went through the
  whole funnel). "Entered" comes from the change history (``OpportunityChange`` rows
  ``created`` and ``stage``, which name the stage by id, crm 0018) and from the
  opportunity's current stage. *Value* is the sum of those opportunities' current
  estimated values.
- **Open now**: the cohort's opportunities that are open and in that stage today.
- **Conversion** from a stage to the next = reached(next) / reached(stage); from the
  last stage to **Won** = won / reached(last stage). Empty when nobody reached the stage.
- **Win rate** = won / (won + lost): of the cohort's closed opportunities, the share won
  (open ones are not decided yet). **Average cycle** of the won ones = mean of
  ``closed_at - created_at``, in days.
- **Average days in stage**: from the change history, each opportunity's stay in a stage
  runs from the event that put it there (``created`` or ``stage``) to its next ``stage``
  or ``status`` event; a stay still going on runs to ``as_of`` (now). Time while the
  opportunity was won or lost (between a closing and a reopening ``status`` event) is not
  time in a stage. Per stage: the total days all the cohort's opportunities spent in it,
  divided by the number of those opportunities that spent time in it (a return to a stage
  adds to the same opportunity's total).

History rows name the stage by id (and keep its name as it was, for display): a renamed
stage keeps the stays recorded under its old name (issue 19); a deleted stage's stays go
with it.

Three queries whatever the number of opportunities, none of them reading the history:
the stages; the cohort counted by (current stage, status, furthest stage in its history),
a few rows from which reached, open now and the totals are summed; and the days in
stage, summed per stage. The history is summarised per opportunity as it is written
(crm 0012, :mod:`..services.funnel_summary`: the furthest stage its rows name, and its
stays per stage (by id since crm 0018): days of the ended ones, start of the one going
on). Both counts
read a covering index that leads with what they group by, then ``created_at`` (crm
0013): one period range per group, in the viewer's scope, in the GROUP BY's order, so
the cost is the period's rows read once, without a sort and without a probe per
opportunity (issue 15).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select, union_all

from erp.db import db

from ..models import (
    STATUS_LOST,
    STATUS_OPEN,
    STATUS_WON,
    STATUSES,
    Opportunity,
    OpportunityStay,
    Stage,
)
from ..services.funnel_summary import stay_days
from .filters import Filters, people_clauses

TENTH = Decimal("0.1")


@dataclass(frozen=True)
class StageFigures:
    stage_id: int
    name: str
    reached: int
    reached_value: Decimal
    open_now: int
    open_value: Decimal
    conversion: Decimal | None  # % reaching the next stage (or Won, for the last)
    average_days: Decimal | None


@dataclass(frozen=True)
class FunnelReport:
    stages: list[StageFigures]
    created: int
    open: int
    won: int
    lost: int
    won_value: Decimal
    win_rate: Decimal | None  # %
    average_cycle_days: Decimal | None

    @property
    def is_empty(self) -> bool:
        return self.created == 0


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def _tenth(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(TENTH, ROUND_HALF_UP)


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _sum_if(condition, value=1):
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def cohort_clauses(user, filters: Filters) -> list:
    """WHERE the opportunity is of the period's cohort: created in the period, owners in
    scope (and the owner/team filters)."""
    return [Opportunity.created_at >= filters.start_at,
            Opportunity.created_at < filters.end_before,
            *people_clauses(Opportunity.owner_id, user, filters)]


def groups_select(user, filters: Filters, ordered):
    """The cohort counted by (current stage, status, furthest stage in its history): count,
    value and the won ones' cycle; a few rows (at most stages x 3 x (stages + 1)).

    Every stage, status and furthest stage is named (``ordered``: the stages), so the
    (stage, status, furthest stage, created_at) index is read as one created_at range
    per triple in the GROUP BY's order: no sort of the period's opportunities. An
    opportunity whose history names no stage of today's funnel (furthest NULL, which
    IN cannot name) is the second branch's."""
    stage_ids = [stage.id for stage in ordered]
    opportunity = Opportunity
    cycle = opportunity.cycle_days  # the won ones' (crm 0014)

    def counted(furthest):
        return (select(opportunity.stage_id, opportunity.status,
                       opportunity.furthest_stage_id, func.count().label("count"),
                       func.coalesce(func.sum(opportunity.estimated_value), 0).label("value"),
                       func.sum(cycle).label("cycle_days"), func.count(cycle).label("cycles"))
                .where(opportunity.stage_id.in_(stage_ids), opportunity.status.in_(STATUSES),
                       furthest, *cohort_clauses(user, filters))
                .group_by(opportunity.stage_id, opportunity.status,
                          opportunity.furthest_stage_id))

    return union_all(counted(opportunity.furthest_stage_id.in_(stage_ids)),
                     counted(opportunity.furthest_stage_id.is_(None)))


def _reached(groups, ordered) -> dict[int, tuple]:
    """stage id -> (reached, reached value, open now, open value), from
    :func:`groups_select`'s rows: an opportunity reached a stage when its current stage or
    the furthest one in its history is that stage or a later one, or it was won."""
    position = {stage.id: index for index, stage in enumerate(ordered, start=1)}
    figures = {}
    for stage in ordered:
        here = position[stage.id]
        reached = reached_value = open_now = open_value = 0
        for group in groups:
            furthest = max(position.get(group.stage_id, 0),
                           position.get(group.furthest_stage_id, 0))
            if furthest >= here or group.status == STATUS_WON:
                reached += group.count
                reached_value += group.value
            if group.status == STATUS_OPEN and group.stage_id == stage.id:
                open_now += group.count
                open_value += group.value
        figures[stage.id] = (reached, _money(reached_value), open_now, _money(open_value))
    return figures


def days_select(user, filters: Filters, stage_ids, as_of: datetime):
    """Per stage of the cohort's stays: the total days spent in it up to ``as_of`` and
    how many of the cohort spent them (one stay row per opportunity and stage). Only
    today's ``stage_ids`` count, each one created_at range of the (stage, created_at)
    index, in the GROUP BY's order."""
    stay = OpportunityStay
    return (select(stay.stage_id, func.sum(stay_days(as_of)).label("days"),
                   func.count().label("opportunities"))
            .where(stay.stage_id.in_(stage_ids),
                   stay.created_at >= filters.start_at, stay.created_at < filters.end_before,
                   *people_clauses(stay.owner_id, user, filters))
            .group_by(stay.stage_id))


def _days_in_stage(user, filters: Filters, ordered, as_of: datetime) -> dict[int, Decimal]:
    """stage id -> average days the cohort's opportunities spent in it; one query. A
    stay counts for its stage whatever it was called then (a renamed stage keeps them)."""
    ids = [stage.id for stage in ordered]
    return {row.stage_id: _tenth(float(row.days) / row.opportunities)
            for row in db.session.execute(days_select(user, filters, ids, as_of))
            if row.opportunities}


def _totals(groups) -> dict:
    """The cohort's totals, from :func:`groups_select`'s rows."""
    def count(status=None):
        return sum(g.count for g in groups if status is None or g.status == status)
    won = [g for g in groups if g.status == STATUS_WON]
    cycles = sum(g.cycles for g in won)
    cycle_days = sum(float(g.cycle_days) for g in won if g.cycle_days is not None)
    return {"created": count(), "open": count(STATUS_OPEN), "won": count(STATUS_WON),
            "lost": count(STATUS_LOST), "won_value": sum(g.value for g in won),
            "cycle": cycle_days / cycles if cycles else None}


def funnel_report(user, filters: Filters, as_of: datetime) -> FunnelReport:
    ordered = list(db.session.execute(
        select(Stage.id, Stage.name).order_by(Stage.sequence, Stage.id)))
    groups = list(db.session.execute(groups_select(user, filters, ordered)))
    reached = _reached(groups, ordered)
    days = _days_in_stage(user, filters, ordered, as_of)
    totals = _totals(groups)
    won = totals["won"]
    counts = [reached.get(stage.id, (0, _money(0), 0, _money(0))) for stage in ordered]
    figures = []
    for index, (stage, (count, value, open_now, open_value)) in enumerate(
            zip(ordered, counts, strict=True)):
        following = counts[index + 1][0] if index + 1 < len(counts) else won
        figures.append(StageFigures(stage.id, stage.name, count, value, open_now, open_value,
                                    percent(following, count), days.get(stage.id)))
    return FunnelReport(
        stages=figures, created=totals["created"], open=totals["open"], won=won,
        lost=totals["lost"], won_value=_money(totals["won_value"]),
        win_rate=percent(won, won + totals["lost"]), average_cycle_days=_tenth(totals["cycle"]))
