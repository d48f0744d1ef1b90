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

from sqlalchemy import and_, case, false, func, select, true
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import True_

from erp.auth.models import User
from erp.db import db
from erp.indexed import indexed_by

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


# The report reads the period through the (user, done, archived, at, kind) index (crm
# 0011) alone: one range per user and done/not done, every user named (an admin's too)
# and both values of ``done`` listed, so that on both databases the index's ranges are a
# plan and the cheapest; on SQLite (INDEXED BY) the only one, whatever its statistics say:
# at 200,000 accounts, with one rep holding a third of the actions, it read rep's month
# from the (at) index and every one of the month's 7,500 actions from the table (17.5 ms;
# 2 ms by the ranges, issue 15).
REPORT_INDEX = "ix_crm_action_user_open"


def _people(column, user, filters: Filters) -> list:
    """The people clauses, with the users always named: an admin's "everyone" is every
    user (``IN (SELECT id FROM auth_user)``), not no clause at all."""
    clauses = people_clauses(column, user, filters)
    if not filters.user_id and not filters.team_id and all(
            isinstance(clause, True_) for clause in clauses):
        clauses.append(column.in_(select(User.id).scalar_subquery()))
    return clauses


def _where(user, filters: Filters, actions=Action.__table__, status: str | None = None
           ) -> list:
    c = actions.c
    # a range per value of the index's second column: both, or the status's one
    done = (c.done.in_([False, True]) if not status
            else c.done == (true() if status == DONE else false()))
    clauses = [*_people(c.user_id, user, filters), done,
               c.archived == false(),  # left out, as from the timeline and agenda
               c.at >= filters.start_at, c.at < filters.end_before]
    if filters.kind:
        clauses.append(c.kind == filters.kind)
    return clauses


def status_clause(status: str, now: datetime, actions=Action.__table__):
    c = actions.c
    if status == DONE:
        return c.done.is_(True)
    if status == PLANNED:
        return and_(c.done.is_(False), c.at >= now)
    if status == OVERDUE:
        return and_(c.done.is_(False), c.at < now)
    raise ValueError(status)


def status_of(action: Action, now: datetime) -> str:
    """One action's status, as :func:`status_clause` has it in SQL."""
    if action.done:
        return DONE
    at = action.at if action.at.tzinfo else action.at.replace(tzinfo=UTC)  # SQLite: naive UTC
    return PLANNED if at >= now else OVERDUE


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def kind_order(actions=Action.__table__):
    return case({kind: i for i, kind in enumerate(ACTION_KINDS)}, value=actions.c.kind,
                else_=99)


def report_select(user, filters: Filters, now: datetime):
    """Counts by user × type, ordered by user name then type: one range of the
    (user, done, archived, at, kind) index per user and ``done``, read from the index
    alone (crm 0011), whatever the period holds; on SQLite that index only (see
    REPORT_INDEX)."""
    actions = indexed_by(Action.__table__, REPORT_INDEX)
    c = actions.c
    return (
        select(c.user_id, User.name, c.kind,
               *(_count(status_clause(s, now, actions)).label(s) for s in STATUSES))
        .select_from(actions)
        .join(User, User.id == c.user_id)
        .where(*_where(user, filters, actions))
        .group_by(c.user_id, User.name, c.kind)
        .order_by(User.name, c.user_id, kind_order(actions)))


def actions_report(user, filters: Filters, now: datetime) -> ActionsReport:
    """Counts by user × type, one GROUP BY query (:func:`report_select`)."""
    statement = report_select(user, filters, now)
    return ActionsReport([
        ActionCount(row.user_id, row.name, row.kind, int(row.done), int(row.planned),
                    int(row.overdue))
        for row in db.session.execute(statement)])


def actions_list(user, filters: Filters, status: str | None, now: datetime):
    """The drill-down: the SELECT of the actions behind one cell, newest first."""
    statement = select(Action).where(*_where(user, filters, status=status))
    if status in (PLANNED, OVERDUE):  # ``done`` is in _where: not twice (PostgreSQL would
        # count it twice, expect a row or so and join every action before sorting them)
        statement = statement.where(Action.at >= now if status == PLANNED else Action.at < now)
    return (statement
            .options(joinedload(Action.account).lazyload("*"),
                     joinedload(Action.user).lazyload("*"),
                     joinedload(Action.opportunity).lazyload("*"),
                     joinedload(Action.contact).lazyload("*"))
            .order_by(Action.at.desc(), Action.id.desc()))
