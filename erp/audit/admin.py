"""Administration → Audit trail: every entry, newest first, read-only, filtered by user,
model, action and date; each entry's changes as field: old → new."""

from __future__ import annotations

from flask import g, has_app_context
from flask_admin import expose
from flask_admin.contrib.sqla import filters
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from ..admin import SecureModelView
from ..auth.models import User
from ..db import db, mappers_by_table
from ..i18n import datetime_filter
from .history import ACTION_LABELS, action_label, describe, model_label
from .models import ACTIONS, AuditEntry
from .recorder import Audited


def _user_options():
    if not has_app_context():  # the view is built with the app; the list, per request
        return []
    users = db.session.execute(select(User.id, User.name).order_by(User.name)).all()
    return [(str(user_id), name) for user_id, name in users]


def _model_options():
    return sorted(((table, model_label(mapper, table)) for table, mapper
                   in mappers_by_table().items() if issubclass(mapper.class_, Audited)),
                  key=lambda option: option[1].lower())


def _action_options():
    return [(action, ACTION_LABELS[action]) for action in ACTIONS]


def _changes(_view, _context, entry, _name):
    described = g.get("erp_audit_described") or {}
    shown = described.get(entry.id) or describe([entry])[0]
    return Markup("<br>").join(
        Markup("<span class='text-muted'>{}</span>: {} → {}").format(
            line.label, line.old if line.old is not None else "—",
            line.new if line.new is not None else "—")
        for line in shown.lines)


def _model(_view, _context, entry, _name):
    return model_label(mappers_by_table().get(entry.table_name), entry.table_name)


class AuditAdmin(SecureModelView):
    can_create = can_edit = can_delete = False
    can_export = False
    column_list = ("at", "user_name", "action", "table_name", "record_id", "record_label",
                   "changes")
    column_details_list = column_list
    column_default_sort = ("id", True)
    column_sortable_list = ("at",)
    column_searchable_list = ("record_label",)
    column_labels = {"at": _l("When"), "user_name": _l("User"), "action": _l("Action"),
                     "table_name": _l("Model"), "record_id": _l("Record"),
                     "record_label": _l("Name"), "changes": _l("Changes")}
    column_filters = (
        filters.IntEqualFilter(AuditEntry.user_id, _l("User"), options=_user_options),
        filters.FilterEqual(AuditEntry.table_name, _l("Model"), options=_model_options),
        filters.FilterEqual(AuditEntry.action, _l("Action"), options=_action_options),
        filters.DateTimeGreaterFilter(AuditEntry.at, _l("From")),
        filters.DateTimeSmallerFilter(AuditEntry.at, _l("Until")),
        filters.DateTimeBetweenFilter(AuditEntry.at, _l("Between")),
    )
    column_formatters = {
        "at": lambda _v, _c, entry, _n: datetime_filter(entry.at),
        "action": lambda _v, _c, entry, _n: action_label(entry.action),
        "table_name": _model,
        "user_name": lambda _v, _c, entry, _n: escape(entry.user_name or "") or _l("System"),
        "changes": _changes,
    }
    column_formatters_detail = column_formatters

    @expose("/")
    def index_view(self):
        self._refresh_filters_cache()  # the users' list as it is now
        return super().index_view()

    def get_list(self, *args, **kwargs):
        """The page's entries, described together: one query per referred table for the
        page, not one per row."""
        count, entries = super().get_list(*args, **kwargs)
        entries = list(entries)
        g.erp_audit_described = {shown.entry.id: shown for shown in describe(entries)}
        return count, entries


def add_view(admin, category) -> None:
    admin.add_view(AuditAdmin(AuditEntry, db, name=_l("Audit trail"), category=category,
                              endpoint="audit", url="/admin/audit"))
