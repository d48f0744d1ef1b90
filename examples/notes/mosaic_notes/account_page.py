"""Everything Notes adds to CRM's account page: a tab, a timeline source, a stat and a
Create entry. Each is a frozen dataclass from ``erp.registry``; ``register()`` hands
them to the registry, and CRM's page shows them to the users holding their permission."""

from __future__ import annotations

from flask import render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from erp.auth.models import User
from erp.db import db
from erp.i18n import module_i18n
from erp.registry import TimelineEvent, TimelineSource
from erp.timeline import after_cursor
from modules.crm.kinds import AccountStat, AccountTab, CreateAction

from .models import Note
from .permissions import READ, WRITE

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

SHOWN = 50  # notes listed in the tab; the timeline pages through all of them

# --- the tab -----------------------------------------------------------------------------


def count_notes(account) -> int:
    """The number on the tab: one COUNT on the (account_id, ...) index."""
    return db.session.scalar(select(func.count(Note.id)).where(Note.account_id == account.id))


def render_tab(account, args) -> str:
    """The tab's HTML fragment; its root element carries data-count = count_notes()."""
    rows = db.session.execute(
        select(Note.id, Note.body, Note.created_at, User.name.label("author"))
        .join(User, User.id == Note.author_id)
        .where(Note.account_id == account.id)
        .order_by(Note.created_at.desc(), Note.id.desc())
        .limit(SHOWN)).all()
    return render_template("notes/tab.html", account=account, rows=rows,
                           total=count_notes(account), shown=SHOWN,
                           can_write=current_user.has_permission(WRITE))


TAB = AccountTab("notes", _l("Notes"), render=render_tab, count=count_notes, order=50,
                 permission=READ)

# --- the timeline source -----------------------------------------------------------------

SOURCE_KEY = "notes.notes"
KIND = "notes.note"


def fetch_events(account_id: int, cursor, limit: int, kinds: list[str]) -> list[TimelineEvent]:
    """At most ``limit`` notes strictly after ``cursor``, newest first: one indexed query."""
    if KIND not in kinds:
        return []
    rows = db.session.execute(
        select(Note.id, Note.created_at, Note.body, User.name)
        .join(User, User.id == Note.author_id)
        .where(Note.account_id == account_id,
               after_cursor(Note.created_at, Note.id, SOURCE_KEY, cursor))
        .order_by(Note.created_at.desc(), Note.id.desc())
        .limit(limit))
    page = url_for("crm.account", account_id=account_id, tab="notes")
    return [TimelineEvent(at=row.created_at, kind=KIND, title=_("Note"), url=page,
                          icon="sticky", actor=row.name, body=row.body, id=row.id)
            for row in rows]


# The kind filter lists every module's kinds side by side: CRM already has "Notes" (its note
# actions), so this label says which notes these are.
SOURCE = TimelineSource(SOURCE_KEY, {KIND: _l("Account notes")}, fetch_events,
                        permission=READ, order=50)

# --- the stat and the Create entry ---------------------------------------------------------


def last_note(account):
    """When the latest note was written (None: never) — the page formats it as a date."""
    return db.session.scalar(select(func.max(Note.created_at))
                             .where(Note.account_id == account.id))


STAT = AccountStat("notes.last_note", _l("Last note"), last_note, kind="date", order=50,
                   permission=READ)

# The page calls url_for("notes.new_note", account_id=<id>, next=<the account page>).
CREATE = CreateAction("notes.new_note", _l("Note"), permission=WRITE, order=50)
