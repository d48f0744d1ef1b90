"""Authentication rules: password check with throttling, safe redirects."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from secrets import token_hex
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import db
from . import throttle
from .models import User

_sleep = time.sleep  # the tests replace it


@dataclass
class LoginResult:
    user: User | None = None
    throttled: bool = False


@cache
def _dummy_hash() -> str:
    """A hash made like real ones, checked when no user matches: the answer takes as long."""
    return generate_password_hash(token_hex(16))


def authenticate(login: str, password: str, ip: str) -> LoginResult:
    """The user with this user name or e-mail and password, unless throttled.

    Throttling (see :mod:`.throttle`) refuses attempts from an address that has failed
    too often, even with the right password, but never the account everywhere. Every
    attempt is recorded. Unknown names cost one password hash too, so how long the
    answer takes does not tell which user names exist.
    """
    login = (login or "").strip().lower()
    user = db.session.scalar(
        select(User).where(or_(func.lower(User.username) == login, func.lower(User.email) == login))
    )
    user_id = user.id if user is not None else None
    verdict = throttle.check(user_id, login, ip)
    if verdict.refused:
        throttle.record(login, user_id, ip, throttle.THROTTLED)
        db.session.commit()
        return LoginResult(throttled=True)
    if verdict.delay:
        _sleep(verdict.delay)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        reason = throttle.UNKNOWN
    elif not user.check_password(password):
        reason = throttle.PASSWORD
    elif not user.is_active:
        reason = throttle.INACTIVE
    else:
        reason = throttle.SUCCESS
    throttle.record(login, user_id, ip, reason)
    db.session.commit()
    return LoginResult(user=user if reason == throttle.SUCCESS else None)


def safe_next_url(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    target = target.strip()
    if target.startswith(("//", "\\", "/\\")) or not target.startswith("/"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if any(ch in target for ch in "\r\n\t"):
        return None
    return target
