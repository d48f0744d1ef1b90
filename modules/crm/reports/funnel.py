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

Four queries whatever the number of opportunities: the stages, reached/open per stage
(one GROUP BY over stages × opportunities), days in stage (window functions over the
history: SQLite ≥ 3.25 and PostgreSQL), and the cohort's totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    DateTime,
    and_,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
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


def _reached(pop, stages) -> dict[int, tuple]:
    """stage id -> (reached, reached value, open now, open value); one query."""
    change = OpportunityChange
    from_history = (select(change.opportunity_id.label("opp"), stages.c.pos)
                    .select_from(change)
                    .join(stages, stages.c.name == change.new_value)
                    .where(change.field.in_(STAGE_EVENTS),
                           change.opportunity_id.in_(select(pop.c.id))))
    from_current = (select(pop.c.id.label("opp"), stages.c.pos).select_from(pop)
                    .join(stages, stages.c.id == pop.c.stage_id))
    entered = union_all(from_history, from_current).subquery("entered")
    furthest = (select(entered.c.opp, func.max(entered.c.pos).label("pos"))
                .group_by(entered.c.opp).subquery("furthest"))
    reached = or_(furthest.c.pos >= stages.c.pos, pop.c.status == STATUS_WON)
    here = and_(pop.c.status == STATUS_OPEN, pop.c.stage_id == stages.c.id)
    statement = (select(stages.c.id, _sum_if(reached).label("reached"),
                        _sum_if(reached, pop.c.value).label("reached_value"),
                        _sum_if(here).label("open_now"),
                        _sum_if(here, pop.c.value).label("open_value"))
                 .select_from(stages)
                 .join(furthest, true())
                 .join(pop, pop.c.id == furthest.c.opp)
                 .group_by(stages.c.id))
    return {row.id: (int(row.reached), _money(row.reached_value), int(row.open_now),
                     _money(row.open_value))
            for row in db.session.execute(statement)}


def _days_in_stage(pop, stages, as_of: datetime) -> dict[int, Decimal]:
    """stage id -> average days the cohort's opportunities spent in it; one query."""
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
        .where(or_(is_stage, is_status), opp.in_(select(pop.c.id)))
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
    return {row.id: _tenth(float(row.days) / row.opportunities)
            for row in db.session.execute(statement) if row.opportunities}


def _totals(pop) -> tuple:
    won, lost = pop.c.status == STATUS_WON, pop.c.status == STATUS_LOST
    statement = select(
        func.count(pop.c.id).label("created"),
        _sum_if(pop.c.status == STATUS_OPEN).label("open"),
        _sum_if(won).label("won"), _sum_if(lost).label("lost"),
        _sum_if(won, pop.c.value).label("won_value"),
        func.avg(case((won, days_between(pop.c.created_at, pop.c.closed_at)))).label("cycle"))
    return db.session.execute(statement).one()


def funnel_report(user, filters: Filters, as_of: datetime) -> FunnelReport:
    pop, stages = cohort(user, filters), _stage_positions()
    ordered = list(db.session.execute(
        select(Stage.id, Stage.name).order_by(Stage.sequence, Stage.id)))
    reached = _reached(pop, stages)
    days = _days_in_stage(pop, stages, as_of)
    totals = _totals(pop)
    won = int(totals.won)
    counts = [reached.get(stage.id, (0, _money(0), 0, _money(0))) for stage in ordered]
    figures = []
    for index, (stage, (count, value, open_now, open_value)) in enumerate(
            zip(ordered, counts, strict=True)):
        following = counts[index + 1][0] if index + 1 < len(counts) else won
        figures.append(StageFigures(stage.id, stage.name, count, value, open_now, open_value,
                                    percent(following, count), days.get(stage.id)))
    return FunnelReport(
        stages=figures, created=int(totals.created), open=int(totals.open), won=won,
        lost=int(totals.lost), won_value=_money(totals.won_value),
        win_rate=percent(won, won + int(totals.lost)), average_cycle_days=_tenth(totals.cycle))
