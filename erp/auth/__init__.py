"""Users, roles, teams, permissions and record scope."""

from .models import LoginFailure, Role, Team, User
from .permissions import (
    SCOPES,
    apply_scope,
    in_scope,
    permission_required,
    scope_clause,
)

__all__ = [
    "SCOPES",
    "LoginFailure",
    "Role",
    "Team",
    "User",
    "apply_scope",
    "in_scope",
    "permission_required",
    "scope_clause",
]
