"""Whose figures a user may see: the people and teams a report or a filter offers.

Everything a filter offers is within the viewer's record scope: a rep sees only themself,
a team manager the people and the team they see, an admin everyone. (The report's query
applies the scope clause anyway, so a hand-made URL cannot widen it.)
"""

from __future__ import annotations

from sqlalchemy import select

from ..db import db
from .models import SCOPE_ALL, SCOPE_OWN, Team, User
from .permissions import scope_clause

__all__ = ["visible_teams", "visible_users"]


def visible_users(user) -> list[User]:
    """Everyone whose figures ``user`` may see (inactive people too: history is history)."""
    return list(db.session.scalars(
        select(User).where(scope_clause(User.id, user)).order_by(User.name, User.id)))


def visible_teams(user) -> list[Team]:
    """The teams ``user`` may filter by: every team for the whole-company scope, their
    own for the team scope, none for the own-records scope."""
    if user.record_scope == SCOPE_ALL:
        return list(db.session.scalars(select(Team).order_by(Team.name)))
    if user.record_scope == SCOPE_OWN or user.team_id is None:
        return []
    return [user.team]
