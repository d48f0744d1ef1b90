"""CRM's timeline sources: actions (calls, e-mails, meetings...) and the pipeline's
history (opportunity created, stage changes, won, lost...). One indexed query each."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select

from erp.auth.models import User
from erp.db import db
from erp.registry import TimelineEvent, TimelineSource
from erp.timeline import after_cursor

from .models import Action, Opportunity, OpportunityChange
from .permissions import READ
from .services.actions import KIND_LABELS

ACTION_KINDS = {
    "crm.call": _l("Calls"), "crm.email": _l("E-mails"), "crm.meeting": _l("Meetings"),
    "crm.visit": _l("Visits"), "crm.task": _l("Tasks"), "crm.note": _l("Notes"),
    "crm.proposal": _l("Proposals"),
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


def fetch_actions(account_id: int, cursor, limit: int, kinds: list[str]) -> list[TimelineEvent]:
    rows = db.session.execute(
        select(Action.id, Action.at, Action.kind, Action.done, Action.description,
               Action.email_subject, Action.opportunity_id, Opportunity.title, User.name)
        .join(User, User.id == Action.user_id)
        .outerjoin(Opportunity, Opportunity.id == Action.opportunity_id)
        .where(Action.account_id == account_id, Action.archived.is_(False),
               Action.kind.in_([k.removeprefix("crm.") for k in kinds]),
               after_cursor(Action.at, Action.id, ACTIONS.key, cursor))
        .order_by(Action.at.desc(), Action.id.desc())
        .limit(limit))
    events = []
    for row in rows:
        title = str(KIND_LABELS.get(row.kind, row.kind))
        if row.email_subject:
            title = f"{title}: {row.email_subject}"
        elif row.title:
            title = f"{title} · {row.title}"
        url = (url_for("crm.opportunity", opportunity_id=row.opportunity_id)
               if row.opportunity_id else None)
        events.append(TimelineEvent(
            at=row.at, kind=f"crm.{row.kind}", title=title, url=url,
            icon=ACTION_ICONS.get(row.kind, "dot"), actor=row.name, body=row.description or None,
            id=row.id, badge=None if row.done else _("planned")))
    return events


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


def fetch_pipeline(account_id: int, cursor, limit: int, kinds: list[str]) -> list[TimelineEvent]:
    condition = or_(*(PIPELINE_CONDITIONS[k] for k in kinds if k in PIPELINE_CONDITIONS)) \
        if kinds else false()
    rows = db.session.execute(
        select(OpportunityChange.id, OpportunityChange.at, OpportunityChange.field,
               OpportunityChange.old_value, OpportunityChange.new_value,
               OpportunityChange.opportunity_id, Opportunity.title, User.name)
        .join(Opportunity, Opportunity.id == OpportunityChange.opportunity_id)
        .outerjoin(User, User.id == OpportunityChange.user_id)
        .where(OpportunityChange.account_id == account_id, condition,
               after_cursor(OpportunityChange.at, OpportunityChange.id, PIPELINE.key, cursor))
        .order_by(OpportunityChange.at.desc(), OpportunityChange.id.desc())
        .limit(limit))
    events = []
    for row in rows:
        kind, title = _change_title(row)
        events.append(TimelineEvent(
            at=row.at, kind=kind, title=title,
            url=url_for("crm.opportunity", opportunity_id=row.opportunity_id),
            icon="funnel", actor=row.name, id=row.id))
    return events


ACTIONS = TimelineSource("crm.actions", ACTION_KINDS, fetch_actions, permission=READ, order=10)
PIPELINE = TimelineSource("crm.pipeline", PIPELINE_KINDS, fetch_pipeline, permission=READ,
                          order=20)
