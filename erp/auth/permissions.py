"""Permission checks and record scope, used by every module's views and services."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort, current_app
from flask_login import current_user
from sqlalchemy import ColumnElement, false, select, true

from ..db import db
from .models import SCOPE_ALL, SCOPE_OWN, SCOPE_TEAM, User

SCOPES = (SCOPE_OWN, SCOPE_TEAM, SCOPE_ALL)


def permission_required(*permissions: str):
    """Require a logged-in user holding every one of ``permissions``.

    Anonymous users are sent to the login page (and back afterwards); users
    lacking a permission get 403.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not all(current_user.has_permission(p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def scope_clause(owner_column: Any, user: Any) -> ColumnElement[bool]:
    """A WHERE clause limiting rows to those ``user`` may see, by their owner column.

    ``own``: rows the user owns; ``team``: rows owned by members of the user's
    team (a user without a team falls back to ``own``); ``all``: every row.
    Anonymous users see nothing.
    """
    if not getattr(user, "is_authenticated", False):
        return false()
    scope = user.record_scope
    if scope == SCOPE_ALL:
        return true()
    if scope == SCOPE_TEAM and user.team_id is not None:
        team_members = select(User.id).where(User.team_id == user.team_id)
        return owner_column.in_(team_members.scalar_subquery())
    return owner_column == user.id


def scope_owner_ids(user: Any) -> list[int] | None:
    """The owners whose rows ``user`` may see, as :func:`scope_clause` tells them apart
    (None: every owner, the ``all`` scope), for a statement that reads each owner's rows
    from an index of its own."""
    if not getattr(user, "is_authenticated", False):
        return []
    if user.record_scope == SCOPE_ALL:
        return None
    if user.record_scope == SCOPE_TEAM and user.team_id is not None:
        return list(db.session.scalars(select(User.id).where(User.team_id == user.team_id)
                                       .order_by(User.id)))
    return [user.id]


def apply_scope(statement: Any, owner_column: Any, user: Any) -> Any:
    """``statement`` (a SELECT) restricted to the rows ``user`` may see."""
    return statement.where(scope_clause(owner_column, user))


def in_scope(owner_id: int | None, user: Any) -> bool:
    """Whether a record owned by ``owner_id`` is within ``user``'s scope (no query for own/all)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if owner_id is not None and owner_id == user.id:  # one's own, whatever the scope
        return True
    scope = user.record_scope
    if scope == SCOPE_ALL:
        return True
    if owner_id is None:
        return False
    if scope == SCOPE_TEAM and user.team_id is not None:
        owner_team = db.session.scalar(select(User.team_id).where(User.id == owner_id))
        return owner_team == user.team_id
    return False
