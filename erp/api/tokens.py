"""Creating, listing, revoking and checking per-user API tokens.

A token is ``mos_`` plus 43 random URL-safe characters. Only its SHA-256 is stored,
with the first characters in clear so a user can tell their tokens apart; the whole
token is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..auth.models import User
from ..db import db, utcnow, writing
from .models import ApiToken

TOKEN_PREFIX = "mos_"  # noqa: S105 (a marker, not a secret)
SHOWN_PREFIX_LENGTH = 12
# last_used_at is written at most this often per token, not on every request.
LAST_USED_GRANULARITY = timedelta(minutes=5)
NAME_MAX_LENGTH = 80


class TokenError(ValueError):
    """A token could not be created or revoked; the message is for the user."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row (committed) and the token itself, to show once."""
    name = (name or "").strip()
    if not name:
        raise TokenError("Give the token a name, e.g. where it will be used.")
    if len(name) > NAME_MAX_LENGTH:
        raise TokenError(f"The name may have at most {NAME_MAX_LENGTH} characters.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, prefix=token[:SHOWN_PREFIX_LENGTH],
                   token_hash=hash_token(token))
    db.session.add(row)
    db.session.commit()
    return row, token


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def revoke_token(user: User, token_id: int) -> ApiToken | None:
    """Revoke one of ``user``'s tokens; None if they have no such token."""
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.commit()
    return row


def user_for_token(token: str) -> User | None:
    """The active user a valid, unrevoked token belongs to; None otherwise."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    # The token, its user and the user's roles (every request checks a permission): one query.
    row = db.session.scalars(
        select(ApiToken).options(joinedload(ApiToken.user).joinedload(User.roles))
        .where(ApiToken.token_hash == hash_token(token))).unique().first()
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    now = utcnow()
    last = row.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite gives naive UTC datetimes back
        last = last.replace(tzinfo=now.tzinfo)
    if last is None or now - last > LAST_USED_GRANULARITY:
        db.session.commit()  # end the read: on SQLite a write must take the lock first
        with writing():
            row.last_used_at = now
            db.session.commit()
    return row.user
