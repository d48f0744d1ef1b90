"""One meaning of "today": the user's date, in the user's time zone.

The server runs in UTC; a user in São Paulo at 22:00 is still on the previous day, and a
receivable due today is not overdue until *their* midnight. Every module asks here:

    today = local_today()                 # the signed-in user's date (request context)
    today = local_today(user)             # that user's date (a task, a report for them)
    start = day_start(today)              # that local midnight, in UTC (what the database
    end = day_start(today + timedelta(1)) #   compares timestamps with)

The zone is the user's ``timezone`` (their preferences), else the app's default
(``ERP_DEFAULT_TIMEZONE``); outside any app, UTC. Functions that compute on a date take
it as a parameter (``today``) rather than asking the clock: they stay pure and testable.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context
from flask_babel import get_timezone

__all__ = ["day_start", "local_today", "localize", "user_timezone"]


def _zone(name: str | None) -> tzinfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _default_zone() -> tzinfo:
    if not has_app_context():
        return UTC
    return _zone(current_app.config.get("BABEL_DEFAULT_TIMEZONE")) or UTC


def user_timezone(user=None) -> tzinfo:
    """The time zone of ``user``; without one, of the request's user (Flask-Babel's
    choice, cached per request); UTC outside any app context."""
    if user is not None:
        return _zone(getattr(user, "timezone", None)) or _default_zone()
    try:
        return get_timezone() or UTC
    except RuntimeError:  # no app context
        return UTC


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """A naive wall-clock time in ``zone`` as an aware datetime (pytz zones need
    ``localize()``, not ``replace()``)."""
    attach = getattr(zone, "localize", None)
    return attach(naive) if attach else naive.replace(tzinfo=zone)


def local_today(user=None) -> date:
    """Today in the user's time zone (the request's user unless one is given)."""
    return datetime.now(user_timezone(user)).date()


def day_start(day: date, user=None) -> datetime:
    """Midnight of ``day`` in the user's time zone, in UTC (what the database compares)."""
    return localize(datetime.combine(day, time()), user_timezone(user)).astimezone(UTC)
