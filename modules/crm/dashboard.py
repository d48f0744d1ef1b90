"""CRM's home-dashboard widgets: the user's agenda (overdue and today) and their open
opportunities by stage.

"My" means the user's own: the actions planned *for* them (as the agenda page lists
them) and the opportunities they own, whatever their record scope. Each widget costs
at most two queries (an aggregate and a LIMITed list), however many rows there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import render_template
from sqlalchemy import bindparam, false, func, select

from erp.clock import day_start, local_today
from erp.db import db
from erp.i18n import module_i18n
from erp.indexed import indexed_by
from erp.registry import DashboardWidget

from .models import STATUS_OPEN, Account, Action, Opportunity, PipelineTotal, Stage
from .permissions import READ, WRITE

_l = module_i18n(__name__).lazy_gettext

AGENDA_SHOWN = 5

# --- my agenda ------------------------------------------------------------------------------


@dataclass
class AgendaSummary:
    day: date
    overdue: int = 0
    today: int = 0
    first: list[Any] = field(default_factory=list)  # rows: the oldest planned first

    @property
    def total(self) -> int:
        return self.overdue + self.today


def _agenda_where(user_id, tomorrow) -> tuple:
    # Equalities on the (user_id, done, archived, at) index (crm 0010): the counts read
    # the index alone, a range of the user's planned actions (issue 15).
    return (Action.user_id == user_id, Action.done == false(), Action.archived == false(),
            Action.at < tomorrow)


def _planned_count(user_id, after, before):
    """How many of the user's planned (not done), kept actions fall in [after, before): a
    count of one range of the (user, done, archived, at, kind) index — on SQLite that
    index by name, whatever the statistics."""
    actions = indexed_by(Action.__table__, "ix_crm_action_user_open")
    c = actions.c
    period = [c.at < before] if after is None else [c.at >= after, c.at < before]
    return (select(func.count()).select_from(actions)
            .where(c.user_id == user_id, c.done == false(), c.archived == false(), *period)
            .scalar_subquery())


def _agenda_counts(user_id, start, tomorrow):
    """Two counts of index ranges, before today and today: no row's time compared one by
    one (SQLite counts a range without reading its entries; a third of the time of
    summing a CASE over a rep's 2,700 overdue actions at 200,000 accounts, issue 15)."""
    return select(_planned_count(user_id, None, start).label("overdue"),
                  _planned_count(user_id, start, tomorrow).label("today"))


def _agenda_first(user_id, start, tomorrow, limit):
    return (select(Action.id, Action.at, Action.kind, Action.account_id, Action.opportunity_id,
                   (Action.at < start).label("overdue"),
                   func.coalesce(Account.trade_name, Account.legal_name).label("account_name"),
                   Opportunity.title.label("opportunity_title"))
            .join(Account, Account.id == Action.account_id)
            .outerjoin(Opportunity, Opportunity.id == Action.opportunity_id)
            .where(*_agenda_where(user_id, tomorrow)).order_by(Action.at, Action.id)
            .limit(limit))


def agenda_counts_select(user, today: date):
    """How many of the user's planned actions are overdue (before today) and due today."""
    return _agenda_counts(user.id, day_start(today), day_start(today + timedelta(days=1)))


# The home page runs both on every view: built once, the user, the day's bounds and the
# number shown bound when run (issue 15's throughput).
_DAY = {"user_id": bindparam("user_id"), "start": bindparam("start"),
        "tomorrow": bindparam("tomorrow")}
AGENDA_COUNTS = _agenda_counts(**_DAY)
AGENDA_FIRST = _agenda_first(**_DAY, limit=bindparam("limit"))


def agenda_summary(user, today: date | None = None, *, limit: int = AGENDA_SHOWN
                   ) -> AgendaSummary:
    """The user's planned (not done) actions due before tomorrow, in their time zone: how
    many are overdue (before today) and due today, and the first ``limit`` of them."""
    today = today or local_today()
    day = {"user_id": user.id, "start": day_start(today),
           "tomorrow": day_start(today + timedelta(days=1))}
    overdue, due_today = db.session.execute(AGENDA_COUNTS, day).one()
    first = db.session.execute(AGENDA_FIRST, {**day, "limit": limit}).all()
    return AgendaSummary(today, int(overdue), int(due_today), list(first))


def render_agenda(user) -> str:
    return render_template("crm/dashboard/agenda.html", agenda=agenda_summary(user),
                           can_write=user.has_permission(WRITE))


# --- my open opportunities by stage -------------------------------------------------------


@dataclass
class StageFigure:
    stage_id: int
    name: str
    count: int
    value: Decimal
    share: int = 0  # the bar's length: percent of the largest count


@dataclass
class PipelineSummary:
    stages: list[StageFigure]

    @property
    def count(self) -> int:
        return sum(s.count for s in self.stages)

    @property
    def value(self) -> Decimal:
        return sum((s.value for s in self.stages), Decimal("0.00"))


def pipeline_select(user):
    """Every stage, in funnel order, with the count and value (in cents) of the user's
    own open, unarchived opportunities in it (the empty stages included): the user's rows
    of the open pipeline's totals (crm 0023, :mod:`.models.pipeline_total`), one range of
    its key (open, kept, owner) in the stages' order, a row per stage whatever the number
    of opportunities, then named (issue 15: a rep with 15,000 open opportunities at
    200,000 accounts read them all, a range per stage of crm_opportunity's (status,
    archived, stage_id, owner_id, estimated_value) index). Equalities only ("= false",
    not "IS false"): an index seek on both databases."""
    return _pipeline(user.id)


def _pipeline(owner_id):
    totals = PipelineTotal
    mine = (select(totals.stage_id, totals.opportunities.label("count"),
                   totals.value_cents.label("value_cents"))
            .where(totals.status == STATUS_OPEN, totals.archived == false(),
                   totals.owner_id == owner_id)
            .subquery("mine"))
    return (select(Stage.id, Stage.name, func.coalesce(mine.c.count, 0),
                   func.coalesce(mine.c.value_cents, 0))
            .select_from(Stage).outerjoin(mine, mine.c.stage_id == Stage.id)
            .order_by(Stage.sequence, Stage.id))


PIPELINE = _pipeline(bindparam("user_id"))  # on every home page: built once (issue 15)


def pipeline_summary(user) -> PipelineSummary:
    """Every stage, in funnel order, with the count and value of the user's own open,
    unarchived opportunities in it. One query (see pipeline_select)."""
    rows = db.session.execute(PIPELINE, {"user_id": user.id}).all()
    stages = [StageFigure(stage_id, name, int(count), Decimal(int(cents)).scaleb(-2))
              for stage_id, name, count, cents in rows]
    largest = max((s.count for s in stages), default=0)
    for stage in stages:
        stage.share = round(100 * stage.count / largest) if largest else 0
    return PipelineSummary(stages)


def render_pipeline(user) -> str:
    return render_template("crm/dashboard/pipeline.html", pipeline=pipeline_summary(user),
                           user=user)


WIDGETS = (
    DashboardWidget("crm.agenda", _l("My agenda"), render=render_agenda, permission=READ,
                    order=10, width=6),
    # Only the pipeline's people own opportunities (crm.write: sales manager and rep): a
    # service technician or the finance clerk reads accounts but never has any (issue 17).
    DashboardWidget("crm.pipeline", _l("My open opportunities by stage"),
                    render=render_pipeline, permission=WRITE, order=20, width=6),
)
