"""Actions ("ações"): record what was done or plan what must be done with an account or
opportunity; the user's agenda. E-mail written in the CRM is services/emails.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from erp.auth import in_scope
from erp.auth.models import User
from erp.clock import day_start, local_today, localize, user_timezone
from erp.db import db, utcnow
from erp.formats import parse_date
from erp.i18n import module_i18n
from erp.paging import COUNT_CAP, capped_count
from erp.validation import Errors, Invalid, choice, record_id, text

from ..labels import ACTION_KIND_LABELS
from ..models import (
    ACTION_KINDS,
    STATUS_OPEN,
    Account,
    Action,
    Opportunity,
)
from .contacts import is_choosable_contact
from .scope import visible_record

_l = module_i18n(__name__).lazy_gettext

KIND_LABELS = ACTION_KIND_LABELS
MAX_DESCRIPTION = 20000
AGENDA_DAYS = 14
# What the agenda page shows of each section; a longer section is paged on its own page
# (:func:`planned_select`), so the agenda costs the same for a user with thousands of
# planned actions (issue 15: 100 a section made it 200 KB and 56-69 ms on PostgreSQL).
AGENDA_LIMIT = 20
# The agenda's sections of planned actions, in the page's order.
AGENDA_SECTIONS = ("overdue", "today", "upcoming")
# Opportunities to contact: few per user, shown up to this many.
AGENDA_CONTACTS_LIMIT = 100

_DATETIME_BR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


# --- time zones -----------------------------------------------------------------------


def local_input_value(moment: datetime | None) -> str:
    """A datetime as an HTML datetime-local input shows it: '2026-12-31T14:30', local."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(user_timezone()).strftime("%Y-%m-%dT%H:%M")


def parse_moment(value: Any) -> tuple[datetime | None, bool]:
    """Read when an action happens: (aware UTC datetime, whether only a date was given).

    Accepts datetimes (naive ones are local time), dates, '2026-12-31T14:30' (an HTML
    datetime-local input), '31/12/2026 14:30', '31/12/2026' and '2026-12-31'. Strings and
    naive datetimes are in the user's time zone. None/'' -> (None, False); else ValueError.
    """
    if value is None or value == "":
        return None, False
    day_only: date | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        day_only = value
    else:
        text = str(value).strip()
        if not text:
            return None, False
        match = _DATETIME_BR.match(text)
        if match:
            day, month, year, hour, minute, second = (int(g or 0) for g in match.groups())
            moment = datetime(year, month, day, hour, minute, second)
        elif len(text) <= 10:
            day_only = parse_date(text)
        else:
            moment = datetime.fromisoformat(text)
    if not 1900 <= (day_only or moment).year <= 2999:
        raise ValueError("out of range")
    if day_only is not None:
        return day_start(day_only), True
    if moment.tzinfo is None:
        moment = localize(moment, user_timezone())
    return moment.astimezone(UTC), False


# --- input ----------------------------------------------------------------------------


ACTION_FIELDS = ("account_id", "opportunity_id", "kind", "at", "contact_id", "description",
                 "done", "user_id")


def _bool_or_none(value: Any) -> bool | None:
    """'' / None: let the date decide; '1', 'true', 'on', True: done; '0', 'false': planned."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("1", "true", "on", "yes", "done", "y"):
        return True
    if word in ("0", "false", "off", "no", "planned", "n"):
        return False
    return None


def clean_action(data: Mapping[str, Any], *, user, current: Action | None = None
                 ) -> dict[str, Any]:
    """Validate action input (a subset on update); raises InvalidInput per field."""
    errors = Errors()
    errors.unknown(data, ACTION_FIELDS)
    out: dict[str, Any] = {}
    account = _clean_links(data, user, current, out, errors)
    if "kind" in data or current is None:
        out["kind"] = errors.clean(
            "kind", choice, data.get("kind"), choices=ACTION_KINDS, required=True,
            message=_l("Choose the kind of action: call, e-mail, meeting…"))
    day_only = _clean_moment(data, current, out, errors)
    _clean_contact(data, current, account, out, errors)
    if "description" in data or current is None:
        out["description"] = errors.clean("description", text, data.get("description"),
                                          max_length=MAX_DESCRIPTION)
    _clean_user(data, user, current, account, out, errors)
    _clean_done(data, current, out, day_only)
    errors.raise_if_any()
    return out


def _clean_links(data: Mapping, user, current: Action | None, out: dict,
                 errors: Errors) -> Account | None:
    """The opportunity (optional) and the account (the opportunity's, when not given);
    moved to another account, the action leaves its old opportunity."""
    opportunity = None
    if "opportunity_id" in data:
        opportunity = errors.clean("opportunity_id", visible_record, data["opportunity_id"],
                                   model=Opportunity, user=user,
                                   message=_l("Choose an opportunity you can see."))
        out["opportunity_id"] = opportunity.id if opportunity else None
    account = current.account if current is not None else None
    account_given = data.get("account_id") not in (None, "")
    if account_given or current is None:
        account = None
        value = data["account_id"] if account_given else (
            opportunity.account_id if opportunity else None)
        try:
            account = visible_record(value, model=Account, user=user, required=True,
                                message=_l("Choose an account you can see."))
        except Invalid as error:
            if "opportunity_id" not in errors:
                errors.add("account_id", error.message)
        else:
            out["account_id"] = account.id
    if opportunity is not None and account is not None and opportunity.account_id != account.id:
        errors.add("opportunity_id", _l("Choose an opportunity of this account."))
    elif (opportunity is None and current is not None and current.opportunity_id
          and "account_id" in out and out["account_id"] != current.account_id
          and "opportunity_id" not in data):
        out["opportunity_id"] = None  # moved to another account: the old opportunity goes
    return account


def _clean_moment(data: Mapping, current: Action | None, out: dict, errors: Errors) -> bool:
    """When (now, if not said); returns whether only a date was given."""
    if "at" not in data and current is not None:
        return False
    try:
        moment, day_only = parse_moment(data.get("at"))
    except (TypeError, ValueError):
        errors.add("at", _l("Use a date and time such as 31/12/2026 14:30."))
        return False
    out["at"] = moment or utcnow().replace(microsecond=0)
    return day_only


def _clean_contact(data: Mapping, current: Action | None, account: Account | None, out: dict,
                   errors: Errors) -> None:
    """One of the account's contacts; moved to another account, the action loses it."""
    message = _l("Choose one of the account's contacts.")
    if "contact_id" in data:
        contact_id = errors.clean("contact_id", record_id, data["contact_id"], message=message)
        unchanged = (current.contact_id if current is not None
                     and account is not None and account.id == current.account_id else None)
        if contact_id and (account is None or not is_choosable_contact(
                account.id, contact_id, unchanged)):
            errors.add("contact_id", message)  # archived or unlinked: not a new choice
        out["contact_id"] = contact_id
    elif current is not None and current.contact_id and account is not None and (
            account.id != current.account_id):
        out["contact_id"] = None


def _clean_user(data: Mapping, user, current: Action | None, account: Account | None,
                out: dict, errors: Errors) -> None:
    """Who does it: the user by default, else an active user they see who sees the account."""
    if "user_id" not in data and current is not None:
        return
    message = _l("Choose an active user.")
    user_id = errors.clean("user_id", record_id, data.get("user_id"), message=message)
    if "user_id" in errors:
        return
    user_id = user_id or user.id
    person = db.session.get(User, user_id)
    if person is None or not person.is_active:
        errors.add("user_id", message)
    elif user_id != user.id and user_id != getattr(current, "user_id", None) and (
            not in_scope(user_id, user)):
        errors.add("user_id", _l("You may only assign actions to people whose records you "
                                 "see."))
    elif account is not None and user_id != user.id and not in_scope(account.owner_id,
                                                                    person):
        errors.add("user_id", _l("%(name)s cannot see this account.", name=person.name))
    else:
        out["user_id"] = user_id


def _clean_done(data: Mapping, current: Action | None, out: dict, day_only: bool) -> None:
    """Unsaid: done if it already happened, planned if it is still to come. A date
    without a time is a plan for that day, unless the day is over."""
    if "done" not in data and current is not None:
        return
    done = _bool_or_none(data.get("done"))
    if done is None and "at" in out:
        done = (out["at"] < day_start(local_today()) if day_only
                else out["at"] <= utcnow())
    if done is not None:
        out["done"] = done


# --- commands -------------------------------------------------------------------------


def get_action_or_404(action_id: int, user) -> Action:
    """The action, if it is the user's own or on an account within their scope."""
    action = db.session.get(Action, action_id)
    if action is None or not (action.user_id == user.id
                              or in_scope(action.account.owner_id, user)):
        abort(404)
    return action


def create_action(data: Mapping[str, Any], *, user) -> Action:
    """Record (or plan) an action. Bad input raises InvalidInput and writes nothing."""
    values = clean_action(data, user=user)
    action = Action(**values)
    db.session.add(action)
    db.session.commit()
    return action


def update_action(action: Action, data: Mapping[str, Any], *, user) -> Action:
    values = clean_action(data, user=user, current=action)
    for key, value in values.items():
        setattr(action, key, value)
    db.session.commit()
    return action


def set_archived(action: Action, archived: bool) -> None:
    """Archived actions are kept but leave the timeline, the agenda and the pages."""
    action.archived = archived
    db.session.commit()


def complete_action(action: Action, *, user) -> Action:
    """Mark a planned action done; its time becomes when it was done (the model's rule)."""
    if action.done:
        return action
    if not (action.user_id == user.id or in_scope(action.account.owner_id, user)):
        abort(404)
    action.done = True
    action.at = utcnow().replace(microsecond=0)
    db.session.commit()
    return action


# --- the agenda -----------------------------------------------------------------------


@dataclass
class AgendaContact:
    """An opportunity the user should contact (or follow, as internal contact) on ``on``."""

    opportunity: Opportunity
    on: date
    overdue: bool
    due_today: bool


@dataclass
class Agenda:
    day: date
    overdue: list[Action] = field(default_factory=list)
    today: list[Action] = field(default_factory=list)
    upcoming: list[Action] = field(default_factory=list)
    next_contacts: list[AgendaContact] = field(default_factory=list)
    internal_contacts: list[AgendaContact] = field(default_factory=list)
    # How many actions each of AGENDA_SECTIONS holds (erp.paging's capped count: past
    # COUNT_CAP, COUNT_CAP + 1), where it holds more than it shows.
    counts: dict[str, int] = field(default_factory=dict)
    count_cap: int = COUNT_CAP

    def count(self, section: str) -> int:
        return self.counts.get(section, len(getattr(self, section)))

    def more(self, section: str) -> bool:
        """Whether the section holds more actions than the agenda shows."""
        return section in self.counts

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.today or self.upcoming or self.next_contacts
                    or self.internal_contacts)


def section_bounds(section: str, today: date) -> tuple[datetime | None, datetime]:
    """The [start, end) of an agenda section's times, in the user's zone: overdue is before
    today, today is today, upcoming the next AGENDA_DAYS days."""
    start, tomorrow = day_start(today), day_start(today + timedelta(days=1))
    if section == "overdue":
        return None, start
    if section == "today":
        return start, tomorrow
    if section == "upcoming":
        return tomorrow, day_start(today + timedelta(days=AGENDA_DAYS + 1))
    raise ValueError(section)


def planned_select(user, section: str, today: date):
    """The user's planned (not done, not archived) actions of an agenda section, first due
    first, with what the agenda shows of them joined (no roles, tags or owners loaded): one
    range of the (user, done, archived, at) index."""
    start, end = section_bounds(section, today)
    statement = (
        select(Action)
        .where(Action.user_id == user.id, Action.done.is_(False), Action.at < end,
               Action.archived.is_(False))
        .options(joinedload(Action.account).lazyload("*"),
                 joinedload(Action.user).lazyload("*"),
                 joinedload(Action.opportunity).lazyload("*"),
                 joinedload(Action.contact).lazyload("*"))
        .order_by(Action.at, Action.id))
    return statement if start is None else statement.where(Action.at >= start)


def _contacts(user_column, date_column, user, today: date, limit: int) -> list[AgendaContact]:
    rows = db.session.execute(
        select(Opportunity, date_column)
        .where(user_column == user.id, date_column.is_not(None),
               date_column <= today + timedelta(days=AGENDA_DAYS),
               Opportunity.status == STATUS_OPEN, Opportunity.archived.is_(False))
        .options(joinedload(Opportunity.account).lazyload("*"),
                 joinedload(Opportunity.owner).lazyload("*"),
                 joinedload(Opportunity.stage), lazyload(Opportunity.tags))
        .order_by(date_column, Opportunity.id).limit(limit)).all()
    return [AgendaContact(opportunity, on, on < today, on == today) for opportunity, on in rows]


def agenda(user, today: date | None = None, *, limit: int = AGENDA_LIMIT) -> Agenda:
    """The user's planned actions (overdue, today, the next 14 days), the first ``limit`` of
    each, and the opportunities they are the next or the internal contact of (up to
    AGENDA_CONTACTS_LIMIT). Five queries, each bounded, and a capped count for each
    section that holds more than it shows."""
    today = today or local_today()
    found = Agenda(day=today)
    for section in AGENDA_SECTIONS:
        statement = planned_select(user, section, today)
        rows = list(db.session.scalars(statement.limit(limit + 1)).unique())
        setattr(found, section, rows[:limit])
        if len(rows) > limit:
            found.counts[section] = capped_count(statement, Action.id)
    found.next_contacts = _contacts(Opportunity.next_contact_user_id,
                                    Opportunity.next_contact_on, user, today,
                                    AGENDA_CONTACTS_LIMIT)
    found.internal_contacts = _contacts(Opportunity.internal_contact_user_id,
                                        Opportunity.internal_contact_on, user, today,
                                        AGENDA_CONTACTS_LIMIT)
    return found
