"""CRM's part of each user's calendar feed (erp/calendar_feed.py, issue 18): their planned
actions, and the open opportunities they are the next or the internal contact of, as on
the agenda page. Three queries, each bounded by LIMIT and read on the agenda's indexes
(ix_crm_action_user_open, ix_crm_opportunity_next_contact / _internal_contact)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from erp.auth import scope_clause
from erp.clock import user_timezone
from erp.db import db
from erp.i18n import module_i18n
from erp.registry import CalendarEntry, CalendarSource

from .labels import ACTION_KIND_LABELS
from .models import Account, Action, Opportunity
from .models.pipeline import STATUS_OPEN
from .permissions import READ

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

LIMIT = 500  # of each kind: a feed is read every few minutes by calendar programs


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _lines(*parts) -> str:
    return "\n".join(str(part) for part in parts if part)


def _actions(user, start: datetime, end: datetime) -> list[CalendarEntry]:
    """The user's planned, kept actions in the window (their own: always in their scope)."""
    actions = db.session.scalars(
        select(Action)
        .where(Action.user_id == user.id, Action.done.is_(False),
               Action.archived.is_(False), Action.at >= start, Action.at < end)
        .options(joinedload(Action.account).lazyload("*"), lazyload(Action.user),
                 joinedload(Action.opportunity).lazyload("*"),
                 joinedload(Action.contact).lazyload("*"))
        .order_by(Action.at, Action.id).limit(LIMIT))
    entries = []
    for action in actions:
        kind = str(ACTION_KIND_LABELS.get(action.kind, action.kind))
        title = f"{kind}: {action.account.display_name}"
        if action.opportunity is not None:
            title += f" — {action.opportunity.title}"
        url = (url_for("crm.opportunity", opportunity_id=action.opportunity_id, _external=True)
               if action.opportunity_id else
               url_for("crm.account", account_id=action.account_id, _external=True))
        entries.append(CalendarEntry(
            uid=f"crm.action.{action.id}", summary=title, start=_aware(action.at),
            description=_lines(action.description,
                               _("Contact: %(name)s", name=action.contact.name)
                               if action.contact else None, url),
            url=url, categories=("CRM", kind), updated=action.updated_at))
    return entries


def _contacts(user, start: datetime, end: datetime, user_column, date_column, kind: str,
              label) -> list[CalendarEntry]:
    """Open opportunities in the user's scope whose next (or internal) contact they are,
    on a day of the window: all-day events."""
    zone = user_timezone(user)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    rows = db.session.execute(
        select(Opportunity, date_column)
        .join(Account, Account.id == Opportunity.account_id)
        .where(user_column == user.id, date_column >= first, date_column < last,
               Opportunity.status == STATUS_OPEN, Opportunity.archived.is_(False),
               scope_clause(Account.owner_id, user))
        .options(joinedload(Opportunity.account).lazyload("*"),
                 joinedload(Opportunity.stage), lazyload(Opportunity.owner),
                 lazyload(Opportunity.tags))
        .order_by(date_column, Opportunity.id).limit(LIMIT)).all()
    entries = []
    for opportunity, on in rows:
        url = url_for("crm.opportunity", opportunity_id=opportunity.id, _external=True)
        entries.append(CalendarEntry(
            uid=f"crm.{kind}.{opportunity.id}",
            summary=f"{label}: {opportunity.title} — {opportunity.account.display_name}",
            start=on,
            description=_lines(opportunity.subject_note,
                               _("Stage: %(stage)s", stage=opportunity.stage.name), url),
            url=url, categories=("CRM", str(label)), updated=opportunity.updated_at))
    return entries


def fetch(user, start: datetime, end: datetime) -> list[CalendarEntry]:
    return [
        *_actions(user, start, end),
        *_contacts(user, start, end, Opportunity.next_contact_user_id,
                   Opportunity.next_contact_on, "next_contact", _("Next contact")),
        *_contacts(user, start, end, Opportunity.internal_contact_user_id,
                   Opportunity.internal_contact_on, "internal_contact",
                   _("Internal contact")),
    ]


AGENDA = CalendarSource("crm.agenda", _l("CRM agenda"), fetch, permission=READ)
