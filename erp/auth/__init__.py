"""Users, roles, teams, permissions and record scope."""

from . import sessions  # noqa: F401 (the events that end sessions on password change)
from .models import LoginAttempt, Role, Team, User
from .permissions import (
    SCOPES,
    apply_scope,
    in_scope,
    permission_required,
    scope_clause,
    scope_owner_ids,
)
from .scope import visible_teams, visible_users

__all__ = [
    "SCOPES",
    "LoginAttempt",
    "Role",
    "Team",
    "User",
    "apply_scope",
    "in_scope",
    "permission_required",
    "scope_clause",
    "scope_owner_ids",
    "visible_teams",
    "visible_users",
]
