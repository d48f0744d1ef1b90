"""What the admin's user and login-attempt views add (mixed into erp/admin.py's views)."""

from __future__ import annotations

from flask import flash, session
from flask_admin.actions import action
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from ..db import MAX_ID, db
from ..i18n import datetime_filter
from . import throttle
from .models import User
from .sessions import end_sessions, renew_current_session

REASON_LABELS = {
    throttle.SUCCESS: _l("Signed in"),
    throttle.PASSWORD: _l("Wrong password"),
    throttle.UNKNOWN: _l("Unknown user"),
    throttle.INACTIVE: _l("Inactive user"),
    throttle.THROTTLED: _l("Refused: too many failures"),
}


class UserSessionsMixin:
    """"Sign out everywhere" (a list action: POST, CSRF token, confirmation) and the
    admin's own session kept when they change their own password."""

    @action("sign_out_everywhere", _l("Sign out everywhere"),
            _l("End every session of the selected users, on every device?"))
    def action_sign_out_everywhere(self, ids):
        wanted = [int(i) for i in ids if str(i).isdigit() and int(i) <= MAX_ID]
        users = db.session.scalars(select(User).where(User.id.in_(wanted))).all()
        for user in users:
            end_sessions(user)
        db.session.commit()
        flash(ngettext("%(num)d user signed out everywhere.",
                       "%(num)d users signed out everywhere.", len(users)), "success")

    def after_model_change(self, form, model, is_created):
        super().after_model_change(form, model, is_created)
        if (not is_created and model.id == current_user.id and model.is_active
                and session.get("_user_id") != model.get_id()):
            renew_current_session(model)  # their new password ended this session too


def _at(view, context, model, name):
    return datetime_filter(model.at, "dd/MM/yyyy HH:mm:ss")


def _reason(view, context, model, name):
    return REASON_LABELS.get(model.reason, model.reason)


class LoginAttemptColumns:
    """Every login attempt, newest first, for admins: read-only, filterable."""

    can_create = can_edit = can_delete = False
    can_view_details = False
    page_size = 100
    column_list = ("at", "username", "user", "ip", "success", "reason")
    column_default_sort = ("at", True)
    column_filters = ("at", "username", "user.username", "ip", "success")
    column_searchable_list = ("username", "ip")
    column_labels = {"at": _l("When"), "username": _l("Typed user name"), "user": _l("User"),
                     "user.username": _l("User"), "ip": _l("Address"),
                     "success": _l("Success"), "reason": _l("Outcome")}
    column_formatters = {"at": _at, "reason": _reason}
