"""Users, roles and teams.

A role carries permission strings (contributed by modules through the registry)
and a record scope: ``own`` (records the user owns), ``team`` (records owned by
anyone in the user's team) or ``all``. A user with several roles gets the union
of their permissions and the broadest of their scopes. An admin role grants
every permission, every record and the admin interface.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import cached_property

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import Base, TimestampMixin, db, utcnow

SCOPE_OWN, SCOPE_TEAM, SCOPE_ALL = "own", "team", "all"
SCOPE_RANK = {SCOPE_OWN: 0, SCOPE_TEAM: 1, SCOPE_ALL: 2}

user_roles = Table(
    "auth_user_role",
    Base.metadata,
    Column("user_id", ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("auth_role.id", ondelete="CASCADE"), primary_key=True),
)


class Team(db.Model):
    __tablename__ = "auth_team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    members: Mapped[list[User]] = relationship(back_populates="team")

    def __str__(self) -> str:
        return self.name


class Role(db.Model):
    __tablename__ = "auth_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    scope: Mapped[str] = mapped_column(String(8), default=SCOPE_OWN)
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)

    users: Mapped[list[User]] = relationship(secondary=user_roles, back_populates="roles")

    def __str__(self) -> str:
        return self.name


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "auth_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("auth_team.id", ondelete="SET NULL"),
                                                index=True)
    # Part of every session and remember cookie (see get_id); a new value ends them all.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    team: Mapped[Team | None] = relationship(back_populates="members")
    # Loaded when read: the signed-in user's with the user (erp.auth.sessions.load_user),
    # not those of every user loaded as a record's owner (an account's, joined to it).
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, back_populates="users")

    def __str__(self) -> str:
        return self.name

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember cookies (see .sessions)."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in
        return bool(self.active)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return any(role.is_admin for role in self.roles)

    @cached_property
    def permission_set(self) -> frozenset[str]:
        return frozenset(p for role in self.roles for p in (role.permissions or ()))

    def has_permission(self, permission: str) -> bool:
        return self.is_active and (self.is_admin or permission in self.permission_set)

    @property
    def record_scope(self) -> str:
        if self.is_admin:
            return SCOPE_ALL
        ranks = [SCOPE_RANK.get(role.scope, 0) for role in self.roles]
        best = max(ranks, default=0)
        return next(scope for scope, rank in SCOPE_RANK.items() if rank == best)


class LoginAttempt(db.Model):
    """One login attempt, failed or not: the throttle counts these, admins read them.

    ``user_id`` is the account the typed name or e-mail belongs to (None when it is
    nobody's), so both spellings of one account count as one.
    """

    __tablename__ = "auth_login_attempt"
    __table_args__ = (
        Index("ix_auth_login_attempt_user_id_at", "user_id", "at"),
        Index("ix_auth_login_attempt_username_at", "username", "at"),
        Index("ix_auth_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(16))

    user: Mapped[User | None] = relationship()
