"""Each user's private calendar feed: their agenda in any calendar program (issue 18).

A user creates a feed in Preferences → Calendar feed and gets a URL holding a random
token (shown once: only its SHA-256 is kept, like API tokens). Calendar programs read
``/calendar/<token>.ics`` without a login: the token names the user, and a revoked or
unknown token is a 404 like any other page that does not exist (the token is hashed and
looked up by its hash, the same work whatever is sent). Creating it again replaces the
token (the old URL stops working); revoking deletes it.

What the feed holds comes from the modules, through :class:`erp.registry.CalendarSource`
(CRM: the user's planned actions, the opportunities they are the next or the internal
contact of), between :data:`PAST_DAYS` ago and :data:`FUTURE_DAYS` ahead, valid RFC 5545
written by the ``icalendar`` library: times in the user's time zone (``TZID`` with its
``VTIMEZONE``), each event's ``UID`` stable across reads (the source's id of the record).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from icalendar import Calendar, Event
from sqlalchemy import DateTime, ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .auth.models import User
from .clock import day_start, local_today, user_timezone
from .db import db, utcnow
from .forms import PostForm
from .registry import CalendarEntry, CalendarSource

__all__ = ["CalendarFeed", "bp", "create_feed", "feed_of", "feed_user", "render_feed",
           "revoke_feed", "uid_domain"]

log = logging.getLogger(__name__)

PAST_DAYS = 30
FUTURE_DAYS = 180
DEFAULT_DURATION = timedelta(minutes=30)
TOKEN_BYTES = 32  # token_urlsafe(32): 43 characters
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class CalendarFeed(db.Model):
    """A user's feed: one at most; only the token's hash is kept."""

    __tablename__ = "erp_calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"),
                                         unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so the user can tell which URL is the live one.
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()

    def __str__(self) -> str:
        return f"{self.prefix}…"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# --- the feed's life ---------------------------------------------------------------------


def feed_of(user) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def create_feed(user) -> str:
    """A new feed for ``user`` (replacing theirs, if any); returns the token, which is
    never kept: say it to the user now. The caller commits."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    db.session.add(CalendarFeed(user_id=user.id, token_hash=_hash(token), prefix=token[:6]))
    db.session.flush()
    return token


def revoke_feed(user) -> bool:
    """Delete the user's feed (its URL answers 404 from now); False if there was none.
    The caller commits."""
    result = db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    return bool(result.rowcount)


def feed_user(token: str) -> User | None:
    """The active user whose feed this token opens, or None. A malformed token is hashed
    and looked up too: every token costs the same work, found or not."""
    wanted = _hash(token if _TOKEN.match(token or "") else "!" + (token or ""))
    row = db.session.execute(
        select(CalendarFeed.token_hash, User)
        .join(User, User.id == CalendarFeed.user_id)
        .where(CalendarFeed.token_hash == wanted)).first()
    if row is None or not hmac.compare_digest(row[0], wanted) or not row[1].active:
        return None
    return row[1]


# --- the iCalendar document --------------------------------------------------------------


def window(user, today: date | None = None) -> tuple[datetime, datetime]:
    """The UTC moments the feed covers: PAST_DAYS before the user's today, FUTURE_DAYS
    after (local midnights)."""
    today = today or local_today(user)
    return (day_start(today - timedelta(days=PAST_DAYS), user),
            day_start(today + timedelta(days=FUTURE_DAYS + 1), user))


def uid_domain() -> str:
    """What follows the ``@`` of every UID: ``ERP_CALENDAR_UID_DOMAIN``, else the host of
    ``ERP_BASE_URL`` — not the request's, so a feed read through another address (a proxy,
    an IP) names the same events the same."""
    configured = current_app.config.get("ERP_CALENDAR_UID_DOMAIN")
    if configured:
        return str(configured)
    return urlsplit(str(current_app.config.get("ERP_BASE_URL") or "")).hostname or "mosaic-erp"


def _event(entry: CalendarEntry, zone, stamp: datetime, domain: str) -> Event:
    event = Event()
    event.add("uid", f"{entry.uid}@{domain}")
    event.add("dtstamp", stamp)
    if isinstance(entry.start, datetime):
        start = entry.start if entry.start.tzinfo else entry.start.replace(tzinfo=UTC)
        end = entry.end or start + DEFAULT_DURATION
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
        event.add("dtstart", start.astimezone(zone))
        event.add("dtend", end.astimezone(zone))
    else:  # a day: DTEND is the next one (RFC 5545: exclusive)
        event.add("dtstart", entry.start)
        event.add("dtend", entry.end or entry.start + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
    event.add("summary", entry.summary)
    if entry.description:
        event.add("description", entry.description)
    if entry.url:
        event.add("url", entry.url)
    if entry.location:
        event.add("location", entry.location)
    if entry.categories:
        event.add("categories", list(entry.categories))
    if entry.updated is not None:
        updated = entry.updated if entry.updated.tzinfo else entry.updated.replace(tzinfo=UTC)
        event.add("last-modified", updated.astimezone(UTC))
    return event


def entries_for(user, start: datetime, end: datetime) -> list[CalendarEntry]:
    """Every source's entries for ``user`` in the window; a source that fails is logged
    and left out (the others still make the feed)."""
    registry = current_app.extensions["erp"]
    found: list[CalendarEntry] = []
    for source in registry.items(CalendarSource, user):
        try:
            found.extend(source.fetch(user, start, end))
        except Exception:
            log.exception("calendar source %s failed", source.key)
            db.session.rollback()
    return found


def render_feed(user, today: date | None = None) -> bytes:
    """The user's feed as iCalendar bytes, in their language and time zone."""
    zone = user_timezone(user)
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        start, end = window(user, today)
        entries = entries_for(user, start, end)
        calendar = Calendar()
        calendar.add("prodid", "-//Mosaic ERP//Agenda//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", _("Mosaic ERP agenda — %(name)s", name=user.name))
        calendar.add("x-wr-timezone", str(zone))
        stamp = utcnow().replace(microsecond=0)
        domain = uid_domain()
        for entry in sorted(entries, key=_sort_key):
            calendar.add_component(_event(entry, zone, stamp, domain))
        calendar.add_missing_timezones()  # a VTIMEZONE for each TZID used
        return calendar.to_ical()


def _sort_key(entry: CalendarEntry):
    start = entry.start
    if not isinstance(start, datetime):
        start = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return (start, entry.uid)


# --- pages -------------------------------------------------------------------------------

bp = Blueprint("calendar", __name__)


def _settings_page(token: str | None = None, status: int = 200):
    feed = feed_of(current_user)
    url = url_for("calendar.feed", token=token, _external=True) if token else None
    response = make_response(render_template(
        "erp/calendar_feed.html", feed=feed, feed_url=url, form=PostForm()), status)
    if token:  # the only time the URL is shown: keep it out of every cache
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/auth/calendar")
@login_required
def settings():
    return _settings_page()


@bp.route("/auth/calendar/new", methods=["POST"])
@login_required
def create():
    """Create the feed, or replace its URL (CSRF-checked like every POST)."""
    had_one = feed_of(current_user) is not None
    token = create_feed(current_user)
    db.session.commit()
    flash(_("New calendar URL made: the previous one no longer works.") if had_one
          else _("Your calendar feed is ready."), "success")
    return _settings_page(token, status=201)


@bp.route("/auth/calendar/revoke", methods=["POST"])
@login_required
def revoke():
    if revoke_feed(current_user):
        db.session.commit()
        flash(_("Calendar feed revoked: its URL no longer works."), "success")
    else:
        flash(_("You have no calendar feed."), "info")
    return redirect(url_for("calendar.settings"))


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    """The feed itself: no login, the token is the key; 404 for one that opens nothing."""
    user = feed_user(token)
    if user is None:
        abort(404)
    response = make_response(render_feed(user))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="agenda.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
