"""The funnel's (kanban's) columns: their count and value, from the open pipeline's
totals (crm 0023) or one GROUP BY, and their cards, a range of the cards index per column.
The view gives the WHERE clause of the open opportunities its filters select."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import false, func, select, union_all
from sqlalchemy.orm import joinedload, lazyload

from erp.auth import scope_clause
from erp.db import db
from erp.params import id_arg

from ..models import STATUS_OPEN, Opportunity, PipelineTotal


def column_totals(where):
    """Each column's count and value: one GROUP BY, read from the totals index alone."""
    return (select(Opportunity.stage_id, func.count(),
                   func.coalesce(func.sum(Opportunity.estimated_value), 0))
            .where(where).group_by(Opportunity.stage_id))


# The arguments the open pipeline's totals can answer (their key: scope, owner; status
# and archived are the kanban's own, _open_filters); the sort and the columns' limits
# change no count. Any other, with a value (a tag, an account, priority, a search, or
# one this list does not know yet), is counted from the opportunities themselves.
_ON_THE_TOTALS = frozenset({"status", "archived", "owner", "sort"})


def on_the_totals(args) -> bool:
    """Whether the open pipeline's totals (crm 0023) give the columns' figures for
    ``args`` (:func:`filtered_opportunities`'s filters, read the same way)."""
    for name, value in args.items(multi=True):
        if name in _ON_THE_TOTALS or name.startswith("limit_"):
            continue
        if name == "priority" and value != "1":  # no filter
            continue
        if name in ("account", "tag") and id_arg(name, args) is None:  # no filter
            continue
        if name == "q" and not value.strip():
            continue
        return False
    return True


def pipeline_totals(user, owner_id: int | None):
    """Each column's count and value in cents from the open pipeline's totals (crm 0023):
    their open, kept range of the user's scope (and the owner filter), a row per owner
    and stage whatever the number of opportunities (issue 15)."""
    totals = PipelineTotal
    where = [totals.status == STATUS_OPEN, totals.archived == false(),
             scope_clause(totals.owner_id, user)]
    if owner_id is not None:
        where.append(totals.owner_id == owner_id)
    return (select(totals.stage_id, func.sum(totals.opportunities),
                   func.sum(totals.value_cents).label("cents"))
            .where(*where).group_by(totals.stage_id))


def totals_select(user, args, where, owner_id: int | None):
    """The columns' count and value: :func:`pipeline_totals` when the filters (``args``,
    ``owner_id`` the owner filter read from them) are on its key, else
    :func:`column_totals` (``where``); :func:`column_figures` reads either."""
    if on_the_totals(args):
        return pipeline_totals(user, owner_id)
    return column_totals(where)


def column_figures(rows) -> dict[int, tuple[int, Decimal]]:
    """stage id -> (count, value) from :func:`totals_select`'s rows (cents or money)."""
    figures = {}
    for row in rows:
        stage_id, count, value = row
        if "cents" in row._fields:
            value = Decimal(int(value or 0)).scaleb(-2)
        figures[stage_id] = (int(count), value)
    return figures


def column_order(column=Opportunity):
    """A column's order (the cards index's): priority first, then the next contact (the
    soonest first, those without one last), the newest last."""
    return (column.priority.desc(), column.next_contact_on.is_(None), column.next_contact_on,
            column.id.desc())


def _card_key(opportunity: Opportunity) -> tuple:
    """:func:`column_order` in Python."""
    return (not opportunity.priority, opportunity.next_contact_on is None,
            opportunity.next_contact_on or date.min, -opportunity.id)


def column_ids(where, limits: dict[int, int]):
    """The cards' ids of every column: for each stage, a range of the cards index in the
    column's order with its LIMIT, all in one UNION ALL."""
    parts = [select(Opportunity.id).where(where, Opportunity.stage_id == stage_id)
             .order_by(*column_order()).limit(limit).subquery()
             for stage_id, limit in limits.items()]
    return union_all(*(select(part.c.id) for part in parts))


def column_cards(where, limits: dict[int, int]) -> dict[int, list[Opportunity]]:
    """stage id -> its cards, in the column's order; two statements for all columns."""
    if not limits:
        return {}
    ids = db.session.scalars(column_ids(where, limits)).all()
    if not ids:
        return {}
    loaded = db.session.scalars(
        select(Opportunity).where(Opportunity.id.in_(ids))
        .options(lazyload("*"), joinedload(Opportunity.account).lazyload("*"),
                 joinedload(Opportunity.owner).lazyload("*"))).unique().all()
    cards: dict[int, list[Opportunity]] = {}
    for opportunity in sorted(loaded, key=_card_key):
        cards.setdefault(opportunity.stage_id, []).append(opportunity)
    return cards
