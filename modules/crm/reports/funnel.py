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
on).

The cohort's count does not read the period's opportunities one by one (issue 15): the
whole UTC calendar months inside the period come from ``crm_funnel_month`` (crm 0022,
:mod:`..models.funnel_month`), the opportunities already counted by month, owner, stage,
status and furthest stage, kept exact by database triggers in the same transaction as
each write; only the period's partial edges (it starts and ends at midnight in the
viewer's zone, not at a UTC month) are read from ``crm_opportunity``, each edge either as
it is or, when shorter, as its whole month from the aggregate minus the rest of it
(:func:`period_parts`): at most about a month of opportunities, whatever the period's
length. The record scope and the owner/team filters apply to the aggregate's owner as to
the opportunities'. Both parts are one statement, each read from an index that leads
with what it groups by: the aggregate's key (stage, status, furthest stage, month,
owner), one month range per group; the opportunities' covering index (crm 0013), one
created_at range per group; no sort. The days in stage are split the same way: the whole
months from ``crm_funnel_stay_month`` (the stays' days, and the stays going on counted
up to ``as_of`` from the sum of their starts), the edges from the stays' index (stage,
created_at) (crm 0012).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from sqlalchemy import Float, case, func, literal, select, union_all

from erp.db import db

from ..models import (
    STATUS_LOST,
    STATUS_OPEN,
    STATUS_WON,
    STATUSES,
    FunnelMonth,
    FunnelStayMonth,
    Opportunity,
    OpportunityStay,
    Stage,
)
from ..models.funnel_month import ORIGIN as STAYS_ORIGIN
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


def cohort_clauses(user, filters: Filters, start_at: datetime | None = None,
                   end_before: datetime | None = None) -> list:
    """WHERE the opportunity is of the period's cohort: created in the period (or in
    [start_at, end_before), a part of it), owners in scope (and the owner/team filters)."""
    return [Opportunity.created_at >= (filters.start_at if start_at is None else start_at),
            Opportunity.created_at < (filters.end_before if end_before is None else end_before),
            *people_clauses(Opportunity.owner_id, user, filters)]


def _month_of(moment: datetime) -> datetime:
    """The first moment of ``moment``'s UTC calendar month."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _month_ceiling(moment: datetime) -> datetime:
    """The first moment of a UTC month at or after ``moment``."""
    first = _month_of(moment)
    return first if first == moment else (first + timedelta(days=32)).replace(day=1)


class PeriodParts(NamedTuple):
    """A period as the aggregate's whole UTC months [first, after) (None: none) plus
    ranges [start, end) of crm_opportunity added (sign 1) or taken away (-1)."""

    months: tuple[date, date] | None
    ranges: list[tuple[datetime, datetime, int]]

    @property
    def read_from_opportunities(self) -> timedelta:
        return sum((end - start for start, end, _sign in self.ranges), timedelta())


def period_parts(start_at: datetime, end_before: datetime) -> PeriodParts:
    """[start_at, end_before) split into whole UTC months, read from ``crm_funnel_month``,
    and its edges read from ``crm_opportunity``: each edge's partial month is either read
    as it is or, when that is shorter, counted whole from the aggregate and the rest of
    its month taken away. Of the ways to split, the one that leaves the least time to read
    from the opportunities: at most about a month's in all (half a month at each edge),
    however long the period."""
    start, end = start_at.astimezone(UTC), end_before.astimezone(UTC)
    if start >= end:
        return PeriodParts(None, [])
    best = PeriodParts(None, [(start, end, 1)])  # all from the opportunities
    for first in sorted({_month_of(start), _month_ceiling(start)}):
        for after in sorted({_month_of(end), _month_ceiling(end)}):
            if first >= after:
                continue
            ranges = []
            if start < first:
                ranges.append((start, first, 1))
            elif first < start:
                ranges.append((first, start, -1))
            if after < end:
                ranges.append((after, end, 1))
            elif end < after:
                ranges.append((end, after, -1))
            parts = PeriodParts((first.date(), after.date()), ranges)
            if parts.read_from_opportunities < best.read_from_opportunities:
                best = parts
    return best


def _opportunity_groups(user, filters: Filters, stage_ids, start_at, end_before, sign: int):
    """The cohort's opportunities created in [start_at, end_before) counted by (current
    stage, status, furthest stage), each figure times ``sign``.

    Every stage, status and furthest stage is named, so the (stage, status, furthest
    stage, created_at) index is read as one created_at range per triple in the GROUP
    BY's order: no sort of the range's opportunities. An opportunity whose history names
    no stage of today's funnel (furthest NULL, which IN cannot name) is the second
    branch's."""
    opportunity = Opportunity
    cycle = opportunity.cycle_days  # the won ones' (crm 0014)

    def counted(furthest):
        return (select(opportunity.stage_id, opportunity.status,
                       opportunity.furthest_stage_id, (sign * func.count()).label("count"),
                       (sign * func.coalesce(func.sum(
                           func.round(opportunity.estimated_value * 100)), 0)
                        ).label("value_cents"),
                       (sign * func.sum(cycle)).label("cycle_days"),
                       (sign * func.count(cycle)).label("cycles"))
                .where(opportunity.stage_id.in_(stage_ids), opportunity.status.in_(STATUSES),
                       furthest, *cohort_clauses(user, filters, start_at, end_before))
                .group_by(opportunity.stage_id, opportunity.status,
                          opportunity.furthest_stage_id))

    return [counted(opportunity.furthest_stage_id.in_(stage_ids)),
            counted(opportunity.furthest_stage_id.is_(None))]


def _month_groups(user, filters: Filters, stage_ids, first: date, after: date):
    """The same counts for the whole UTC months [first, after), from the aggregate
    (crm 0022): one month range of its key per (stage, status, furthest stage), in the
    GROUP BY's order; a few rows per month and owner, whatever the opportunities."""
    month = FunnelMonth
    return (select(month.stage_id, month.status, month.furthest_stage_id,
                   func.sum(month.opportunities).label("count"),
                   func.sum(month.value_cents).label("value_cents"),
                   func.sum(month.cycle_days).label("cycle_days"),
                   func.sum(month.cycles).label("cycles"))
            .where(month.stage_id.in_(stage_ids), month.status.in_(STATUSES),
                   month.furthest_stage_id.in_([0, *stage_ids]),  # 0: none
                   month.month >= first, month.month < after,
                   *people_clauses(month.owner_id, user, filters))
            .group_by(month.stage_id, month.status, month.furthest_stage_id))


def groups_select(user, filters: Filters, ordered):
    """The cohort counted by (current stage, status, furthest stage in its history): count,
    value (in cents) and the won ones' cycle; a few rows (at most stages x 3 x (stages +
    1) per part). One statement: the period's whole UTC months from the aggregate and its
    edges from the opportunities (:func:`period_parts`); rows of one triple from several
    parts add up (:func:`_groups` reads them)."""
    stage_ids = [stage.id for stage in ordered]
    parts = period_parts(filters.start_at, filters.end_before)
    selects = []
    if parts.months:
        selects.append(_month_groups(user, filters, stage_ids, *parts.months))
    for start_at, end_before, sign in parts.ranges:
        selects.extend(_opportunity_groups(user, filters, stage_ids, start_at, end_before,
                                           sign))
    if not selects:  # an empty period: the statement still has the rows' shape
        selects = _opportunity_groups(user, filters, stage_ids, filters.start_at,
                                      filters.start_at, 1)
    return selects[0] if len(selects) == 1 else union_all(*selects)


class Group(NamedTuple):
    stage_id: int
    status: str
    furthest_stage_id: int | None
    count: int
    value: Decimal
    cycle_days: float | None
    cycles: int


def _groups(rows) -> list[Group]:
    """:func:`groups_select`'s rows: the value back in money, no furthest stage as None."""
    return [Group(row.stage_id, row.status, row.furthest_stage_id or None, int(row.count),
                  Decimal(int(round(row.value_cents or 0))).scaleb(-2),
                  None if row.cycle_days is None else float(row.cycle_days), int(row.cycles))
            for row in rows]


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


def _stay_days(user, filters: Filters, stage_ids, as_of: datetime, start_at, end_before,
               sign: int):
    """Per stage, the stays of the cohort's opportunities created in [start_at,
    end_before): their total days up to ``as_of`` and how many (one stay row per
    opportunity and stage), each times ``sign``. Only today's ``stage_ids`` count, each
    one created_at range of the (stage, created_at) index, in the GROUP BY's order."""
    stay = OpportunityStay
    return (select(stay.stage_id, (sign * func.sum(stay_days(as_of))).label("days"),
                   (sign * func.count()).label("opportunities"))
            .where(stay.stage_id.in_(stage_ids),
                   stay.created_at >= start_at, stay.created_at < end_before,
                   *people_clauses(stay.owner_id, user, filters))
            .group_by(stay.stage_id))


def _month_stay_days(user, filters: Filters, stage_ids, as_of: datetime, first: date,
                     after: date):
    """The same for the whole UTC months [first, after), from the stays' aggregate
    (crm 0022): the ended days, plus each stay going on up to ``as_of`` (from its start,
    kept as a sum of days from the aggregate's origin)."""
    month = FunnelStayMonth
    until = (as_of - STAYS_ORIGIN).total_seconds() / 86400
    return (select(month.stage_id,
                   (func.sum(month.days) + func.sum(month.ongoing) * literal(until, Float)
                    - func.sum(month.since_days)).label("days"),
                   func.sum(month.stays).label("opportunities"))
            .where(month.stage_id.in_(stage_ids), month.month >= first, month.month < after,
                   *people_clauses(month.owner_id, user, filters))
            .group_by(month.stage_id))


def days_select(user, filters: Filters, stage_ids, as_of: datetime):
    """Per stage of the cohort's stays: the total days spent in it up to ``as_of`` and
    how many of the cohort spent them; the period split as :func:`groups_select` splits
    it (several rows of one stage add up)."""
    parts = period_parts(filters.start_at, filters.end_before)
    selects = []
    if parts.months:
        selects.append(_month_stay_days(user, filters, stage_ids, as_of, *parts.months))
    for start_at, end_before, sign in parts.ranges:
        selects.append(_stay_days(user, filters, stage_ids, as_of, start_at, end_before,
                                  sign))
    if not selects:
        selects = [_stay_days(user, filters, stage_ids, as_of, filters.start_at,
                              filters.start_at, 1)]
    return selects[0] if len(selects) == 1 else union_all(*selects)


def _days_in_stage(user, filters: Filters, ordered, as_of: datetime) -> dict[int, Decimal]:
    """stage id -> average days the cohort's opportunities spent in it; one query. A
    stay counts for its stage whatever it was called then (a renamed stage keeps them)."""
    ids = [stage.id for stage in ordered]
    days, opportunities = defaultdict(float), defaultdict(int)
    for row in db.session.execute(days_select(user, filters, ids, as_of)):
        days[row.stage_id] += float(row.days or 0)
        opportunities[row.stage_id] += int(row.opportunities)
    return {stage_id: _tenth(days[stage_id] / count)
            for stage_id, count in opportunities.items() if count}


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
    groups = _groups(db.session.execute(groups_select(user, filters, ordered)))
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
