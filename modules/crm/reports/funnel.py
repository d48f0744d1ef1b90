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
  ``created`` and ``stage``, whose ``new_value`` is the stage name) and from the
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

History rows name the stage as it was called then: after a stage is renamed, the stays
recorded under the old name no longer match it (they are left out of the averages; the
opportunity's current stage still counts for "reached").

Three queries whatever the number of opportunities: the stages; the cohort counted by
(current stage, status, furthest stage in its history), a few rows from which reached,
open now and the totals are summed; and days in stage (window functions over the
history: SQLite ≥ 3.25 and PostgreSQL). The cohort is read from the created_at index
(crm 0007) and the history by opportunity, so the cost follows the period's
opportunities, not every opportunity ever made (issue 15).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    DateTime,
    any_,
    case,
    distinct,
    func,
    literal,
    null,
    or_,
    select,
)

from erp.db import db
from erp.reports import days_between

from ..models import STATUS_LOST, STATUS_OPEN, STATUS_WON, Opportunity, OpportunityChange, Stage
from .filters import Filters, people_clauses

STAGE_EVENTS = ("created", "stage")
STATUS_EVENT = "status"
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


def cohort(user, filters: Filters):
    """The period's opportunities (a CTE): created in the period, owners in scope."""
    return (select(Opportunity.id, Opportunity.stage_id, Opportunity.status,
                   Opportunity.estimated_value.label("value"), Opportunity.created_at,
                   Opportunity.closed_at)
            .where(Opportunity.created_at >= filters.start_at,
                   Opportunity.created_at < filters.end_before,
                   *people_clauses(Opportunity.owner_id, user, filters))
            .cte("cohort"))


def _stage_positions():
    return select(Stage.id, Stage.name, func.row_number().over(
        order_by=(Stage.sequence, Stage.id)).label("pos")).cte("stage_pos")


def of_cohort(pop):
    """WHERE the history row is one of the cohort's opportunities, read by opportunity on
    the (opportunity_id, at) index: PostgreSQL gets 'opportunity_id = ANY(ARRAY(cohort))',
    the cohort an InitPlan run first and each of its opportunities looked up (joined or
    semi-joined, it may merge the cohort with a walk of the whole history); SQLite looks
    the IN list's opportunities up."""
    column = OpportunityChange.opportunity_id
    if db.engine.dialect.name == "postgresql":
        return column == any_(func.array(select(pop.c.id).scalar_subquery()))
    return column.in_(select(pop.c.id))


def _history_position(pop, ordered):
    """The furthest stage (its position) each cohort opportunity's history shows it
    entered, and what to read it from: read by opportunity on the (opportunity_id, at)
    index either way, so the history read is the cohort's, whatever the table's size.
    SQLite: a scalar subquery per opportunity (a probe costs it about a microsecond).
    PostgreSQL: a SubPlan per row costs it several, so there the cohort's history is
    grouped once (its opportunities looked up as 'opportunity_id = ANY(ARRAY(cohort))')
    and hash-joined to the cohort."""
    change = OpportunityChange
    if not ordered:
        return null(), pop
    position = case({stage.name: index for index, stage in enumerate(ordered, start=1)},
                    value=change.new_value)
    if db.engine.dialect.name == "postgresql":
        history = (select(change.opportunity_id.label("opp"), func.max(position).label("pos"))
                   .where(change.field.in_(STAGE_EVENTS), of_cohort(pop))
                   .group_by(change.opportunity_id)
                   .subquery("history"))
        return history.c.pos, pop.outerjoin(history, history.c.opp == pop.c.id)
    return (select(func.max(position))
            .where(change.opportunity_id == pop.c.id, change.field.in_(STAGE_EVENTS))
            .scalar_subquery()), pop


def groups_select(pop, ordered):
    """The cohort counted by (current stage, status, furthest stage in its history): count,
    value and the won ones' cycle; a few rows (at most stages x 3 x stages). ``ordered``:
    the stages (id, name) in the funnel's order."""
    won = pop.c.status == STATUS_WON
    history_pos, source = _history_position(pop, ordered)
    rows = (select(pop.c.stage_id, pop.c.status, pop.c.value,
                   case((won, days_between(pop.c.created_at, pop.c.closed_at))).label("cycle"),
                   history_pos.label("history_pos"))
            .select_from(source)
            .subquery("rows"))
    return (select(rows.c.stage_id, rows.c.status, rows.c.history_pos,
                   func.count().label("count"),
                   func.coalesce(func.sum(rows.c.value), 0).label("value"),
                   func.sum(rows.c.cycle).label("cycle_days"),
                   func.count(rows.c.cycle).label("cycles"))
            .group_by(rows.c.stage_id, rows.c.status, rows.c.history_pos))


def _reached(groups, ordered) -> dict[int, tuple]:
    """stage id -> (reached, reached value, open now, open value), from
    :func:`groups_select`'s rows: an
    opportunity reached a stage when its current stage or the furthest one in its history
    is that stage or a later one, or it was won."""
    position = {stage.id: index for index, stage in enumerate(ordered, start=1)}
    figures = {}
    for stage in ordered:
        here = position[stage.id]
        reached = reached_value = open_now = open_value = 0
        for group in groups:
            furthest = max(position.get(group.stage_id, 0), group.history_pos or 0)
            if furthest >= here or group.status == STATUS_WON:
                reached += group.count
                reached_value += group.value
            if group.status == STATUS_OPEN and group.stage_id == stage.id:
                open_now += group.count
                open_value += group.value
        figures[stage.id] = (reached, _money(reached_value), open_now, _money(open_value))
    return figures


def _days_in_stage(pop, stages, as_of: datetime) -> dict[int, Decimal]:
    """stage id -> average days the cohort's opportunities spent in it; one query."""
    return {row.id: _tenth(float(row.days) / row.opportunities)
            for row in db.session.execute(days_select(pop, stages, as_of))
            if row.opportunities}


def days_select(pop, stages, as_of: datetime):
    """Each stage's total days in it and how many of the cohort spent them there."""
    change = OpportunityChange
    opp = change.opportunity_id
    order = (change.at, change.id)
    is_stage = change.field.in_(STAGE_EVENTS)
    is_status = change.field == STATUS_EVENT
    # Each event, numbered by how many stage (and status) events came up to it, and the
    # time of the next event: the stay it starts ends there.
    events = (
        select(opp.label("opp"), change.at, change.field, change.new_value,
               func.sum(case((is_stage, 1), else_=0)).over(
                   partition_by=opp, order_by=order, rows=(None, 0)).label("stage_group"),
               func.sum(case((is_status, 1), else_=0)).over(
                   partition_by=opp, order_by=order, rows=(None, 0)).label("status_group"),
               func.lead(change.at).over(partition_by=opp, order_by=order).label("next_at"))
        .where(or_(is_stage, is_status), of_cohort(pop))
        .subquery("events"))
    e = events
    # The stage and the status in force during each stay: carried forward from the
    # last event of that kind (the first of its group).
    stays = (
        select(e.c.opp, e.c.at, e.c.next_at,
               func.max(case((e.c.field.in_(STAGE_EVENTS), e.c.new_value))).over(
                   partition_by=(e.c.opp, e.c.stage_group)).label("stage_name"),
               func.max(case((e.c.field == STATUS_EVENT, e.c.new_value))).over(
                   partition_by=(e.c.opp, e.c.status_group)).label("status"))
        .subquery("stays"))
    s = stays
    until = func.coalesce(s.c.next_at, literal(as_of, DateTime(timezone=True)))
    statement = (select(stages.c.id, func.sum(days_between(s.c.at, until)).label("days"),
                        func.count(distinct(s.c.opp)).label("opportunities"))
                 .select_from(s)
                 .join(stages, stages.c.name == s.c.stage_name)
                 .where(or_(s.c.status.is_(None), s.c.status == STATUS_OPEN))
                 .group_by(stages.c.id))
    return statement


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
    pop, stages = cohort(user, filters), _stage_positions()
    ordered = list(db.session.execute(
        select(Stage.id, Stage.name).order_by(Stage.sequence, Stage.id)))
    groups = list(db.session.execute(groups_select(pop, ordered)))
    reached = _reached(groups, ordered)
    days = _days_in_stage(pop, stages, as_of)
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
