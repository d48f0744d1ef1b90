"""CRM's timeline sources for the account page: its actions (calls, e-mails, meetings...),
the pipeline's history (opportunity created, stage changes, won, lost...) and the
account's own events (created, merged...); one indexed query each, read a page at a time
by the host's timeline (erp/timeline.py) with every other module's sources."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from flask import url_for
from sqlalchemy import and_, bindparam, false, or_, select

from erp.auth.models import User
from erp.db import db
from erp.i18n import module_i18n
from erp.registry import TimelineEvent, TimelineSource
from erp.timeline import after_cursor, first_page_built_once

from .models import AccountEvent, Action, Opportunity, OpportunityChange
from .permissions import READ
from .services.actions import KIND_LABELS

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext


ACTION_KINDS = {
    "crm.call": _l("Calls"), "crm.email": _l("E-mails"), "crm.meeting": _l("Meetings"),
    "crm.visit": _l("Visits"), "crm.task": _l("Tasks"), "crm.note": _l("Notes"),
    "crm.proposal": _l("Proposal activities"),  # not sales' "Quote sent" (Proposta enviada)
}
ACTION_ICONS = {"call": "telephone", "email": "envelope", "meeting": "people", "visit": "geo-alt",
                "task": "check2-square", "note": "sticky", "proposal": "file-earmark-text"}

PIPELINE_KINDS = {
    "crm.opportunity_created": _l("Opportunity created"), "crm.stage_changed": _l("Stage changes"),
    "crm.won": _l("Won"), "crm.lost": _l("Lost"), "crm.reopened": _l("Reopened"),
    "crm.owner_changed": _l("Owner changes"), "crm.value_changed": _l("Value changes"),
    "crm.opportunity_edited": _l("Other edits"),
}
# Which history rows each kind is, as SQL on (field, new_value).
_CHANGE = OpportunityChange
PIPELINE_CONDITIONS = {
    "crm.opportunity_created": _CHANGE.field == "created",
    "crm.stage_changed": _CHANGE.field == "stage",
    "crm.won": and_(_CHANGE.field == "status", _CHANGE.new_value == "won"),
    "crm.lost": and_(_CHANGE.field == "status", _CHANGE.new_value.like("lost%")),
    "crm.reopened": and_(_CHANGE.field == "status", _CHANGE.new_value == "open"),
    "crm.owner_changed": _CHANGE.field == "owner",
    "crm.value_changed": _CHANGE.field == "value",
    "crm.opportunity_edited": _CHANGE.field == "details",
}


# Account and page size bound; each first page's statement built once (issue 15).
@first_page_built_once
def _actions_select(kinds: tuple[str, ...], cursor):
    return (select(Action.id, Action.at, Action.kind, Action.done, Action.description,
                   Action.email_subject, Action.opportunity_id, Opportunity.title, User.name)
            .join(User, User.id == Action.user_id)
            .outerjoin(Opportunity, Opportunity.id == Action.opportunity_id)
            .where(Action.account_id == bindparam("account_id"), Action.archived.is_(False),
                   Action.kind.in_([k.removeprefix("crm.") for k in kinds]),
                   after_cursor(Action.at, Action.id, ACTIONS.key, cursor))
            .order_by(Action.at.desc(), Action.id.desc())
            .limit(bindparam("limit")))


def fetch_actions(account_id: int, cursor, limit: int, kinds: list[str]) -> list[TimelineEvent]:
    rows = db.session.execute(_actions_select(kinds, cursor),
                              {"account_id": account_id, "limit": limit})
    return [TimelineEvent(at=row.at, kind=f"crm.{row.kind}", title="", url=None,
                          icon=ACTION_ICONS.get(row.kind, "dot"), actor=row.name,
                          body=row.description or None, id=row.id,
                          describe=partial(_describe_action, row)) for row in rows]


def _describe_action(row, event: TimelineEvent) -> TimelineEvent:
    """The text of a shown action (formatting waits for it: issue 15)."""
    title = str(KIND_LABELS.get(row.kind, row.kind))
    if row.email_subject:
        title = f"{title}: {row.email_subject}"
    elif row.title:
        title = f"{title} · {row.title}"
    url = (url_for("crm.opportunity", opportunity_id=row.opportunity_id)
           if row.opportunity_id else None)
    return replace(event, title=title, url=url, badge=None if row.done else _("planned"))


def _change_title(row) -> tuple[str, str]:
    """(kind, title) of one history row."""
    title = row.title
    if row.field == "created":
        return "crm.opportunity_created", _("Opportunity “%(title)s” created", title=title)
    if row.field == "stage":
        return "crm.stage_changed", _("%(title)s: %(old)s → %(new)s", title=title,
                                      old=row.old_value, new=row.new_value)
    if row.field == "status":
        if row.new_value == "won":
            return "crm.won", _("%(title)s won", title=title)
        if (row.new_value or "").startswith("lost"):
            reason = (row.new_value or "").partition(": ")[2]
            return "crm.lost", _("%(title)s lost: %(reason)s", title=title, reason=reason)
        return "crm.reopened", _("%(title)s reopened", title=title)
    if row.field == "owner":
        return "crm.owner_changed", _("%(title)s: owner %(old)s → %(new)s", title=title,
                                      old=row.old_value, new=row.new_value)
    if row.field == "value":
        return "crm.value_changed", _("%(title)s: value %(old)s → %(new)s", title=title,
                                      old=row.old_value, new=row.new_value)
    return "crm.opportunity_edited", _("%(title)s edited", title=title)


@first_page_built_once
def _pipeline_select(kinds: tuple[str, ...], cursor):
    condition = or_(*(PIPELINE_CONDITIONS[k] for k in kinds if k in PIPELINE_CONDITIONS)) \
        if kinds else false()
    return (select(OpportunityChange.id, OpportunityChange.at, OpportunityChange.field,
                   OpportunityChange.old_value, OpportunityChange.new_value,
                   OpportunityChange.opportunity_id, Opportunity.title, User.name)
            .join(Opportunity, Opportunity.id == OpportunityChange.opportunity_id)
            .outerjoin(User, User.id == OpportunityChange.user_id)
            .where(OpportunityChange.account_id == bindparam("account_id"), condition,
                   after_cursor(OpportunityChange.at, OpportunityChange.id, PIPELINE.key, cursor))
            .order_by(OpportunityChange.at.desc(), OpportunityChange.id.desc())
            .limit(bindparam("limit")))


def fetch_pipeline(account_id: int, cursor, limit: int, kinds: list[str]) -> list[TimelineEvent]:
    rows = db.session.execute(_pipeline_select(kinds, cursor),
                              {"account_id": account_id, "limit": limit})
    return [TimelineEvent(at=row.at, kind=_change_kind(row), title="", url=None, icon="funnel",
                          actor=row.name, id=row.id, describe=partial(_describe_change, row))
            for row in rows]


def _change_kind(row) -> str:
    if row.field == "status":
        if row.new_value == "won":
            return "crm.won"
        return "crm.lost" if (row.new_value or "").startswith("lost") else "crm.reopened"
    return _FIELD_KINDS.get(row.field, "crm.opportunity_edited")


_FIELD_KINDS = {"created": "crm.opportunity_created", "stage": "crm.stage_changed",
                "owner": "crm.owner_changed", "value": "crm.value_changed"}


def _describe_change(row, event: TimelineEvent) -> TimelineEvent:
    return replace(event, title=_change_title(row)[1],
                   url=url_for("crm.opportunity", opportunity_id=row.opportunity_id))


# The account's own events (crm_account_event, issue 17): its creation, by a form, the
# API or an import. Kind "crm.account_<kind>"; another kind of account event names its
# label here.
ACCOUNT_EVENT_KINDS = {"crm.account_created": _l("Account created"),
                       # Another account merged into this one (merge.py, issue 18).
                       "crm.account_merged": _l("Account merged into this one")}
_EVENT_SOURCES = {"web": _l("on the web"), "api": _l("through the API"),
                  "import": _l("by an import")}


def fetch_account_events(account_id: int, cursor, limit: int, kinds: list[str]
                         ) -> list[TimelineEvent]:
    wanted = [k.removeprefix("crm.account_") for k in kinds if k in ACCOUNT_EVENT_KINDS]
    if not wanted:
        return []
    rows = db.session.execute(_account_events_select(wanted, cursor),
                              {"account_id": account_id, "limit": limit})
    return [TimelineEvent(at=row.at, kind=f"crm.account_{row.kind}", title="", url=None,
                          icon="building-add", actor=row.name, id=row.id,
                          describe=partial(_describe_account_event, row)) for row in rows]


@first_page_built_once
def _account_events_select(wanted: tuple[str, ...], cursor):
    event = AccountEvent
    return (select(event.id, event.at, event.kind, event.source, User.name)
            .outerjoin(User, User.id == event.user_id)
            .where(event.account_id == bindparam("account_id"), event.kind.in_(wanted),
                   after_cursor(event.at, event.id, ACCOUNT_EVENTS.key, cursor))
            .order_by(event.at.desc(), event.id.desc())
            .limit(bindparam("limit")))


def _describe_account_event(row, event: TimelineEvent) -> TimelineEvent:
    title = str(ACCOUNT_EVENT_KINDS.get(f"crm.account_{row.kind}", row.kind))
    if row.source in _EVENT_SOURCES:
        title = f"{title} ({_EVENT_SOURCES[row.source]})"
    return replace(event, title=title)


ACTIONS = TimelineSource("crm.actions", ACTION_KINDS, fetch_actions, permission=READ, order=10)
PIPELINE = TimelineSource("crm.pipeline", PIPELINE_KINDS, fetch_pipeline, permission=READ,
                          order=20)
ACCOUNT_EVENTS = TimelineSource("crm.account", ACCOUNT_EVENT_KINDS, fetch_account_events,
                                permission=READ, order=5,
                                every_account=frozenset({"crm.account_created"}))
