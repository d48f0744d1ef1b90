"""A user's record scope over the receivables' balances (finance 0005, issue 15) and their
sums by day (0006): the set of owners whose accounts the user may see, each a range of
the owner index (or key).

The owners are listed from the users (every user for the scope "all": an account's owner
is a required user; the team's members; the user alone), so the figures read those ranges
in (owner, live, account) order whatever the scope: SQLite walks an ``IN`` list in order,
PostgreSQL an ``= ANY(ARRAY(...))`` on the index's first column. (PostgreSQL turns
``owner_id IN (SELECT ...)`` into a hash join over a scan of the table, and the aging's
groups into a hash that spilled to disk at 200K.)
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import any_, func, select

from erp.auth import scope_clause
from erp.auth.models import User
from erp.db import db
from erp.money import CENT

from ..models import ReceivableBalance


def scope_owners(user, *, owner_id: int | None = None, team_id: int | None = None):
    """The ids of the users whose accounts ``user`` may see (a SELECT), narrowed to
    ``owner_id`` and / or the members of ``team_id`` (never beyond the scope)."""
    owners = select(User.id).where(scope_clause(User.id, user))
    if owner_id is not None:
        owners = owners.where(User.id == owner_id)
    if team_id is not None:
        owners = owners.where(User.team_id == team_id)
    return owners


def from_cents(value) -> Decimal:
    """A sum of cents (finance_receivable_day) as money."""
    return (Decimal(int(value or 0)) / 100).quantize(CENT)


def balance_in_scope(user, *, owner_id: int | None = None, team_id: int | None = None,
                     column=ReceivableBalance.owner_id):
    """Whether a balance's account is within ``user``'s scope (and the narrowing): its
    owner (``column``: also ReceivableDay.owner_id) among :func:`scope_owners`, as index
    ranges in owner order."""
    owners = scope_owners(user, owner_id=owner_id, team_id=team_id)
    if db.engine.dialect.name == "postgresql":
        return column == any_(func.array(owners.scalar_subquery()))
    return column.in_(owners)
