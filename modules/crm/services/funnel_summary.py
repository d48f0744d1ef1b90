"""The funnel report's summary of each opportunity's history (crm 0012, issue 15), so that
the report reads a period's opportunities and never their history.

What it holds, and what it is computed from:

* ``Opportunity.furthest_stage_id``: of the stages the opportunity's ``created`` and
  ``stage`` history rows name, the one furthest in today's funnel (``Stage.sequence``,
  then id; a row names its stage by id (crm 0018, issue 19), so a renamed stage keeps
  its rows, and a deleted stage's rows name none (their ``stage_id`` is set NULL; a new
  stage given an old name is a new stage). It depends on the history and on the
  stages' order.
* ``Opportunity.cycle_days``: when won, the days from its ``created_at`` to its
  ``closed_at`` (the report's average cycle), else NULL; from the opportunity's own
  columns, recomputed with the rest.
* ``OpportunityStay`` rows: per opportunity and stage (by id) of its history, the days of
  its ended stays there while open and the start of the stay going on, if any. A stay
  runs from the ``created`` or ``stage`` row that put the opportunity in the stage (or
  from a ``status`` row, which starts a new one in the same stage) to its next ``stage``
  or ``status`` row; while the last ``status`` row says won or lost it is not counted.
  It depends on the history alone (stage ids), so renaming or reordering a stage changes
  none of it; deleting a stage deletes its stays (the foreign key's cascade).

All are recomputed in SQL by :func:`refresh`, which the session calls itself
(:func:`_after_flush`) in the flush that writes history rows (``created``, ``stage``,
``status``, ``owner``: the owner is copied to the stays for the record scope) — every
command writes its rows through ``history.record_changes`` in its own transaction, the
import included — or that sets an opportunity's owner, creation time, status, closing
time or summary columns otherwise (the admin's form); and :func:`refresh_furthest` for
every opportunity in the flush that creates, reorders or deletes a stage (the
settings page and the admin alike). History rows written other than through the session
(raw SQL, a bulk insert) need ``refresh(connection, ids)`` after them;
``refresh(connection)`` rebuilds everything (the migrations' backfill computes the same).

The report's monthly aggregate (crm 0022, :mod:`..models.funnel_month`) counts the
opportunities by these columns too; database triggers keep it, so the UPDATEs here
(furthest stage, cycle) reach it in the same transaction without anything to call.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    DateTime,
    Integer,
    case,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from erp.reports import days_between

from ..models import (
    STATUS_OPEN,
    STATUS_WON,
    Opportunity,
    OpportunityChange,
    OpportunityStay,
    Stage,
)

STAGE_EVENTS = ("created", "stage")
STATUS_EVENT = "status"
# The history rows after which an opportunity's summary is recomputed.
SUMMARISED = (*STAGE_EVENTS, STATUS_EVENT, "owner")


def _of(column, ids: Iterable[int] | None):
    return [] if ids is None else [column.in_(sorted(set(ids)))]


def stays_select(ids: Iterable[int] | None = None):
    """(opportunity_id, stage_id, days, since) of the opportunities ``ids`` (all if
    None), from their history: the stays of the docstring, summed per stage."""
    change = OpportunityChange
    opp = change.opportunity_id
    order = (change.at, change.id)
    is_stage = change.field.in_(STAGE_EVENTS)
    is_status = change.field == STATUS_EVENT
    # Each event numbered by how many stage (and status) events came up to it, and the
    # time of the next one: the stay it starts ends there.
    events = (
        select(opp.label("opp"), change.at, change.field, change.new_value, change.stage_id,
               func.sum(case((is_stage, 1), else_=0)).over(
                   partition_by=opp, order_by=order, rows=(None, 0)).label("stage_group"),
               func.sum(case((is_status, 1), else_=0)).over(
                   partition_by=opp, order_by=order, rows=(None, 0)).label("status_group"),
               func.lead(change.at).over(partition_by=opp, order_by=order).label("next_at"))
        .where(or_(is_stage, is_status), *_of(opp, ids))
        .subquery("events"))
    e = events
    # The stage and the status in force during each stay, carried forward from the
    # last event of that kind (the first of its group).
    stays = (
        select(e.c.opp, e.c.at, e.c.next_at,
               func.max(case((e.c.field.in_(STAGE_EVENTS), e.c.stage_id))).over(
                   partition_by=(e.c.opp, e.c.stage_group)).label("stage_id"),
               func.max(case((e.c.field == STATUS_EVENT, e.c.new_value))).over(
                   partition_by=(e.c.opp, e.c.status_group)).label("status"))
        .subquery("stays"))
    s = stays
    ended = s.c.next_at.is_not(None)
    return (select(s.c.opp.label("opportunity_id"), s.c.stage_id,
                   func.coalesce(func.sum(case((ended, days_between(s.c.at, s.c.next_at)),
                                               else_=0.0)), 0.0).label("days"),
                   func.max(case((~ended, s.c.at))).label("since"))
            .where(s.c.stage_id.is_not(None),
                   or_(s.c.status.is_(None), s.c.status == STATUS_OPEN))
            .group_by(s.c.opp, s.c.stage_id))


def furthest_value(connection: Connection):
    """The SQL value of an opportunity's furthest stage (correlated to
    ``crm_opportunity``): the highest position its history's stages have in today's
    funnel, as that stage's id."""
    # FOR SHARE (PostgreSQL; SQLite writes one at a time): a stage moved by a
    # transaction still open is waited for, and one read here waits for this one, so a
    # change and a stage's rebuild (refresh_furthest) never each miss the other.
    ordered = list(connection.execute(
        select(Stage.id).order_by(Stage.sequence, Stage.id).with_for_update(read=True)))
    if not ordered:
        return literal(None, Integer)
    change = OpportunityChange
    position = case({stage_id: index for index, (stage_id,) in enumerate(ordered, start=1)},
                    value=change.stage_id)
    furthest = (select(func.max(position))
                .where(change.opportunity_id == Opportunity.id,
                       change.field.in_(STAGE_EVENTS))
                .scalar_subquery())
    return case({index: stage_id for index, (stage_id,) in enumerate(ordered, start=1)},
                value=furthest)


def refresh_furthest(connection: Connection, ids: Iterable[int] | None = None) -> None:
    """Recompute ``furthest_stage_id`` of the opportunities ``ids`` (all if None); only
    the rows whose value changes are written (``updated_at`` is left as it was: this is
    no change to the opportunity)."""
    value = furthest_value(connection)
    table = Opportunity.__table__
    connection.execute(
        update(table)
        .where(*_of(table.c.id, ids), table.c.furthest_stage_id.is_distinct_from(value))
        .values(furthest_stage_id=value, updated_at=table.c.updated_at))


def refresh_cycle(connection: Connection, ids: Iterable[int] | None = None) -> None:
    """Recompute ``cycle_days`` of the opportunities ``ids`` (all if None): from
    created_at to closed_at when won, else NULL; only the rows it changes are written."""
    table = Opportunity.__table__
    value = case((table.c.status == STATUS_WON,
                  days_between(table.c.created_at, table.c.closed_at)))
    connection.execute(
        update(table)
        .where(*_of(table.c.id, ids), table.c.cycle_days.is_distinct_from(value))
        .values(cycle_days=value, updated_at=table.c.updated_at))


def refresh_stays(connection: Connection, ids: Iterable[int] | None = None) -> None:
    """Replace the stays of the opportunities ``ids`` (all if None) by their history's."""
    stay = OpportunityStay.__table__
    connection.execute(delete(stay).where(*_of(stay.c.opportunity_id, ids)))
    computed = stays_select(ids).subquery("computed")
    opportunity = Opportunity.__table__
    connection.execute(insert(stay).from_select(
        ["opportunity_id", "stage_id", "created_at", "owner_id", "days", "since"],
        select(computed.c.opportunity_id, computed.c.stage_id, opportunity.c.created_at,
               opportunity.c.owner_id, computed.c.days, computed.c.since)
        .join(opportunity, opportunity.c.id == computed.c.opportunity_id)))


CHUNK = 500  # ids per statement (an import's batch: well under any bind-parameter limit)


def refresh(connection: Connection, ids: Iterable[int] | None = None) -> None:
    """The whole summary of the opportunities ``ids`` (all if None), from their history."""
    if ids is None:
        refresh_furthest(connection)
        refresh_cycle(connection)
        refresh_stays(connection)
        return
    ids = sorted(set(ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        refresh_furthest(connection, chunk)
        refresh_cycle(connection, chunk)
        refresh_stays(connection, chunk)


OWN_COLUMNS = ("owner_id", "created_at", "status", "closed_at", "furthest_stage_id",
               "cycle_days")


def _any_changed(obj, names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _stage_changed(session: Session) -> bool:
    """A stage created, deleted or moved in this flush (a rename changes nothing: the
    history names stages by id)."""
    if any(isinstance(obj, Stage) for obj in (*session.new, *session.deleted)):
        return True
    return any(isinstance(obj, Stage) and _any_changed(obj, ("sequence",))
               for obj in session.dirty)


@event.listens_for(Session, "before_flush")
def _name_stages(session: Session, _context, _instances) -> None:
    """A ``created`` or ``stage`` history row written without its stage id (raw writers:
    a test's hand-made history, another module's code) gets the id of the stage that has
    its name now; the services pass the id themselves, so this costs them nothing."""
    unnamed = [obj for obj in session.new
               if isinstance(obj, OpportunityChange) and obj.field in STAGE_EVENTS
               and obj.stage_id is None and obj.new_value]
    if not unnamed:
        return
    with session.no_autoflush:
        ids = dict(session.execute(select(Stage.name, Stage.id).where(
            Stage.name.in_({obj.new_value for obj in unnamed}))).all())
    for obj in unnamed:
        obj.stage_id = ids.get(obj.new_value)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    """In the flush that writes them: the summary of the opportunities whose history got
    a stage, status or owner row, and every opportunity's furthest stage when a stage
    changed. Same transaction as the change."""
    changed = {obj.opportunity_id for obj in session.new
               if isinstance(obj, OpportunityChange) and obj.field in SUMMARISED}
    # And an opportunity whose copied or summarised columns were set some other way (the
    # admin's form): its summary is put back to what its history says.
    changed |= {obj.id for obj in session.dirty
                if isinstance(obj, Opportunity) and _any_changed(obj, OWN_COLUMNS)}
    stages = _stage_changed(session)
    if not changed and not stages:
        return
    connection = session.connection()
    if changed:
        refresh(connection, changed)
    if stages:
        refresh_furthest(connection)


# For the report: the summary's figures in a period, as the history gives them.
def stay_days(as_of):
    """A stay row's days up to ``as_of``: the ended stays plus the one going on."""
    stay = OpportunityStay
    return stay.days + func.coalesce(
        days_between(stay.since, literal(as_of, DateTime(timezone=True))), 0.0)


