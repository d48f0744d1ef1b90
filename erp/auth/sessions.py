"""Sessions the server can end: a per-user token inside every session and remember cookie.

Flask keeps the session in a signed cookie, which the server cannot take back once
sent. So the id Flask-Login puts in the session and in the remember cookie is
``"<user id>:<session token>"`` (:meth:`User.get_id`), and :func:`load_user` accepts it
only while the token is still the user's. A new token (:func:`end_sessions`) ends every
session and remember cookie of the user at once, on every device: on logout, on a
password change, on deactivation (both through attribute events below, whatever
changes them: admin, CLI, API) and from "sign out everywhere".
"""

from __future__ import annotations

import hmac

from flask import current_app, request, session
from flask_login import login_user
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import joinedload

from ..db import MAX_ID, db
from .models import User, new_session_token

# The signed-in user with their roles, read on every request: one statement built once, with
# the id bound (issue 15). session.get(User, id, options=[joinedload(User.roles)]) built
# its statement and cache key anew each time: 0.15-0.3 ms of Python per request, more
# than the query itself.
USER_BY_ID = select(User).options(joinedload(User.roles)).where(User.id == bindparam("user_id"))


def load_user(session_id: str) -> User | None:
    """The user of a session or remember cookie, if its token is still valid."""
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token or int(user_id) > MAX_ID:
        return None  # also the bare ids of cookies issued before tokens existed
    user = db.session.execute(USER_BY_ID, {"user_id": int(user_id)}).unique().scalar_one_or_none()
    if user is None or not user.is_active:
        return None
    return user if hmac.compare_digest(user.session_token.encode(), token.encode()) else None


def end_sessions(user: User) -> None:
    """End every session of ``user`` (the caller commits)."""
    user.session_token = new_session_token()


def start_session(user: User, remember: bool) -> None:
    """Sign ``user`` in with a new session: nothing from the cookie before survives.

    A cookie session has no id to rotate; clearing it means values planted in a
    pre-login cookie (a CSRF token, a ``_fresh`` flag) are not carried into the
    signed-in session.
    """
    session.clear()
    login_user(user, remember=remember)


def renew_current_session(user: User) -> None:
    """Keep the current request's user signed in after :func:`end_sessions` (remembered
    too if it was), e.g. when one ends their other devices' sessions or changes their
    own password."""
    cookie_name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    start_session(user, remember=cookie_name in request.cookies)


@event.listens_for(User.password_hash, "set")
def _password_changed(user, value, oldvalue, initiator):
    if value != oldvalue:
        end_sessions(user)


@event.listens_for(User.active, "set")
def _deactivated(user, value, oldvalue, initiator):
    if not value and oldvalue is not False:
        end_sessions(user)
