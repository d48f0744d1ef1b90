"""The CRM actions report: actions by user and type over a period, done vs planned vs
overdue (seed 001: "the CRM report is based on the actions performed, not on the
subjects").

An action is in the period when its time (``Action.at``: when it was done, or when it
is planned for) falls within it, in the viewer's time zone. Its status:

- **done** — marked done;
- **planned** — not done, and its time is still to come (at or after ``now``);
- **overdue** — not done, and its time has passed.

Whose figures: the action's user (who did it or must do it), within the viewer's record
scope — a rep sees their own actions, a manager their team's, an admin everyone's.

One GROUP BY query (user × type); the drill-down list is one paginated query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload

from erp.auth.models import User
from erp.db import db

from ..models import ACTION_KINDS, Action
from .filters import Filters, people_clauses

DONE, PLANNED, OVERDUE = "done", "planned", "overdue"
STATUSES = (DONE, PLANNED, OVERDUE)


@dataclass(frozen=True)
class ActionCount:
    user_id: int
    user_name: str
    kind: str
    done: int
    planned: int
    overdue: int

    @property
    def total(self) -> int:
        return self.done + self.planned + self.overdue


@dataclass(frozen=True)
class KindCount:
    kind: str
    done: int
    planned: int
    overdue: int


@dataclass
class ActionsReport:
    rows: list[ActionCount]

    @property
    def totals(self) -> tuple[int, int, int]:
        return (sum(r.done for r in self.rows), sum(r.planned for r in self.rows),
                sum(r.overdue for r in self.rows))

    def by_kind(self) -> list[KindCount]:
        """The rows folded by type (for the chart), in the types' usual order."""
        folded: dict[str, list[int]] = {}
        for row in self.rows:
            counts = folded.setdefault(row.kind, [0, 0, 0])
            counts[0] += row.done
            counts[1] += row.planned
            counts[2] += row.overdue
        order = {kind: i for i, kind in enumerate(ACTION_KINDS)}
        return [KindCount(kind, *counts)
                for kind, counts in sorted(folded.items(), key=lambda kv: order.get(kv[0], 99))]


def _where(user, filters: Filters) -> list:
    clauses = [Action.at >= filters.start_at, Action.at < filters.end_before,
               *people_clauses(Action.user_id, user, filters),
               Action.archived.is_(False)]  # left out, as from the timeline and agenda
    if filters.kind:
        clauses.append(Action.kind == filters.kind)
    return clauses


def status_clause(status: str, now: datetime):
    if status == DONE:
        return Action.done.is_(True)
    if status == PLANNED:
        return and_(Action.done.is_(False), Action.at >= now)
    if status == OVERDUE:
        return and_(Action.done.is_(False), Action.at < now)
    raise ValueError(status)


def status_of(action: Action, now: datetime) -> str:
    """One action's status, as :func:`status_clause` has it in SQL."""
    if action.done:
        return DONE
    at = action.at if action.at.tzinfo else action.at.replace(tzinfo=UTC)  # SQLite: naive UTC
    return PLANNED if at >= now else OVERDUE


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def kind_order():
    return case({kind: i for i, kind in enumerate(ACTION_KINDS)}, value=Action.kind, else_=99)


def report_select(user, filters: Filters, now: datetime):
    """Counts by user × type, ordered by user name then type: one range of the
    (user, done, archived, at, kind) index per user and status, read from the index alone
    (crm 0011), whatever the period holds."""
    return (
        select(Action.user_id, User.name, Action.kind,
               *(_count(status_clause(s, now)).label(s) for s in STATUSES))
        .join(User, User.id == Action.user_id)
        .where(*_where(user, filters))
        .group_by(Action.user_id, User.name, Action.kind)
        .order_by(User.name, Action.user_id, kind_order()))


def actions_report(user, filters: Filters, now: datetime) -> ActionsReport:
    """Counts by user × type, one GROUP BY query (:func:`report_select`)."""
    statement = report_select(user, filters, now)
    return ActionsReport([
        ActionCount(row.user_id, row.name, row.kind, int(row.done), int(row.planned),
                    int(row.overdue))
        for row in db.session.execute(statement)])


def actions_list(user, filters: Filters, status: str | None, now: datetime):
    """The drill-down: the SELECT of the actions behind one cell, newest first."""
    statement = select(Action).where(*_where(user, filters))
    if status:
        statement = statement.where(status_clause(status, now))
    return (statement
            .options(joinedload(Action.account).lazyload("*"),
                     joinedload(Action.user).lazyload("*"),
                     joinedload(Action.opportunity).lazyload("*"),
                     joinedload(Action.contact).lazyload("*"))
            .order_by(Action.at.desc(), Action.id.desc()))
