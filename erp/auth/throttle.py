"""Login throttling that slows guessing down without locking the real user out.

Every attempt is a :class:`LoginAttempt` row. Three counts, over the last
``ERP_LOGIN_THROTTLE_MINUTES``, decide the next attempt:

* **account and address**: ``ERP_LOGIN_MAX_FAILURES_PER_USER`` failures for one account
  from one address lock that pair only. The attacker's address is shut; the real user,
  from any other address, still signs in. A success of the pair clears its count.
* **address**: ``ERP_LOGIN_MAX_FAILURES_PER_IP`` failures from one address, whatever the
  accounts (password spraying), shut that address, except for accounts that have signed
  in from it before (a colleague behind the same office NAT is not locked out).
* **account**: failures from many addresses (a botnet) do not lock the account, they make
  every further attempt on it wait: 0.5 s, 1 s, 2 s ... up to
  ``ERP_LOGIN_MAX_DELAY_SECONDS``. The real user's sign-in is slower, never refused.

An account is the user, whichever of user name or e-mail was typed; a name that is
nobody's is counted as its own "account", so unknown and known names behave alike.
The address is ``request.remote_addr``: behind reverse proxies set ``ERP_PROXY_HOPS``
so that it is the client's, not the proxy's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, select

from ..db import db, utcnow
from ..tasks import periodic_task
from .models import LoginAttempt

log = logging.getLogger(__name__)

# Reasons of an attempt; the first three are failures that count.
UNKNOWN, PASSWORD, INACTIVE, THROTTLED, SUCCESS = (
    "unknown", "password", "inactive", "throttled", "success")
FAILURES = (UNKNOWN, PASSWORD, INACTIVE)
BASE_DELAY_SECONDS = 0.5


@dataclass(frozen=True)
class Verdict:
    refused: bool = False
    delay: float = 0.0  # seconds the attempt waits before its password is checked


def _account(user_id: int | None, login: str):
    if user_id is not None:
        return LoginAttempt.user_id == user_id
    return and_(LoginAttempt.user_id.is_(None), LoginAttempt.username == login)


def _failures_since_success(since, *where) -> int:
    """Failures matching ``where`` after ``since`` and after the last success matching it."""
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.success.is_(True), *where))
    conditions = [LoginAttempt.reason.in_(FAILURES), LoginAttempt.at >= since, *where]
    if last_success is not None:
        conditions.append(LoginAttempt.at > last_success)
    return db.session.scalar(select(func.count(LoginAttempt.id)).where(*conditions))


def _signed_in_from(user_id: int | None, ip: str) -> bool:
    if user_id is None:
        return False
    since = utcnow() - timedelta(days=current_app.config["ERP_LOGIN_RECORDS_DAYS"])
    return db.session.scalar(select(LoginAttempt.id).where(
        LoginAttempt.user_id == user_id, LoginAttempt.ip == ip,
        LoginAttempt.success.is_(True), LoginAttempt.at >= since).limit(1)) is not None


def check(user_id: int | None, login: str, ip: str) -> Verdict:
    """Whether the next attempt on this account from this address is refused or delayed."""
    cfg = current_app.config
    since = utcnow() - timedelta(minutes=cfg["ERP_LOGIN_THROTTLE_MINUTES"])
    account = _account(user_id, login)
    per_account = cfg["ERP_LOGIN_MAX_FAILURES_PER_USER"]
    if _failures_since_success(since, account, LoginAttempt.ip == ip) >= per_account:
        return Verdict(refused=True)
    address_failures = db.session.scalar(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.ip == ip, LoginAttempt.reason.in_(FAILURES), LoginAttempt.at >= since))
    if address_failures >= cfg["ERP_LOGIN_MAX_FAILURES_PER_IP"] and not _signed_in_from(
            user_id, ip):
        return Verdict(refused=True)
    excess = _failures_since_success(since, account) - per_account
    if excess < 0:
        return Verdict()
    return Verdict(delay=min(BASE_DELAY_SECONDS * 2 ** min(excess, 16),
                             float(cfg["ERP_LOGIN_MAX_DELAY_SECONDS"])))


def record(login: str, user_id: int | None, ip: str, reason: str) -> None:
    """Add the attempt to the session (the caller commits)."""
    db.session.add(LoginAttempt(username=login[:120], user_id=user_id, ip=ip[:64],
                                success=reason == SUCCESS, reason=reason))


def prune() -> int:
    """Remove attempts older than ``ERP_LOGIN_RECORDS_DAYS``; the number removed."""
    since = utcnow() - timedelta(days=current_app.config["ERP_LOGIN_RECORDS_DAYS"])
    result = db.session.execute(db.delete(LoginAttempt).where(LoginAttempt.at < since))
    db.session.commit()
    return result.rowcount or 0


@periodic_task(at=(4, 0), name="erp.auth.prune_login_attempts")
def prune_login_attempts() -> None:
    """Daily: the login attempts older than ERP_LOGIN_RECORDS_DAYS."""
    removed = prune()
    if removed:
        log.info("removed %d login attempt(s) older than %d days", removed,
                 current_app.config["ERP_LOGIN_RECORDS_DAYS"])
