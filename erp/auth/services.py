"""Authentication rules: password check with throttling, safe redirects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, func, or_, select

from ..db import db, utcnow
from .models import LoginFailure, User


@dataclass
class LoginResult:
    user: User | None = None
    throttled: bool = False


def _recent_failures(column, value: str) -> int:
    since = utcnow() - timedelta(minutes=current_app.config["ERP_LOGIN_THROTTLE_MINUTES"])
    return db.session.scalar(
        select(func.count(LoginFailure.id)).where(column == value, LoginFailure.at >= since)
    )


def is_throttled(username: str, ip: str) -> bool:
    cfg = current_app.config
    return (
        _recent_failures(LoginFailure.username, username) >= cfg["ERP_LOGIN_MAX_FAILURES_PER_USER"]
        or _recent_failures(LoginFailure.ip, ip) >= cfg["ERP_LOGIN_MAX_FAILURES_PER_IP"]
    )


def authenticate(login: str, password: str, ip: str) -> LoginResult:
    """The user with this user name or e-mail and password, unless throttled.

    While a user name or an address has too many recent failures, even the right
    password is refused, so guessing cannot continue at full speed.
    """
    login = (login or "").strip().lower()
    if is_throttled(login, ip):
        return LoginResult(throttled=True)
    user = db.session.scalar(
        select(User).where(or_(func.lower(User.username) == login, func.lower(User.email) == login))
    )
    if user is None or not user.is_active or not user.check_password(password):
        db.session.add(LoginFailure(username=login, ip=ip))
        db.session.commit()
        return LoginResult()
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == login))
    db.session.commit()
    return LoginResult(user=user)


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
