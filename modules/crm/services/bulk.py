"""Opportunities many at once (the list's bulk actions, and one opportunity's archive and
delete): tag, assign, move, lose, archive, delete — in one transaction, each change
recorded as the single-opportunity commands record it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from erp.auth import in_scope
from erp.auth.models import User
from erp.db import db, utcnow
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.params import parse_int
from erp.validation import clean_field, record

from ..models import STATUS_LOST, Opportunity, Tag
from .history import Change, record_changes
from .opportunities import chosen_loss_reason, chosen_stage, opportunity_scope, status_change

_l = module_i18n(__name__).lazy_gettext

BULK_ACTIONS = ("add_tag", "remove_tag", "assign", "stage", "lost", "archive", "unarchive",
                "delete")


def bulk_apply(ids: Iterable[Any], action: str, *, user, **params) -> int:
    """Apply ``action`` to the opportunities among ``ids`` the user may see.

    Returns how many changed. Runs in one transaction: a refusal changes nothing.
    """
    if action not in BULK_ACTIONS:
        raise InvalidInput({"action": [_l("Choose an action.")]})
    wanted = {n for x in ids if (n := parse_int(x, min=1)) is not None}
    if not wanted:
        raise InvalidInput({"ids": [_l("Select at least one opportunity.")]})
    targets = list(db.session.scalars(
        select(Opportunity).where(Opportunity.id.in_(wanted), opportunity_scope(user))
        .order_by(Opportunity.id)))
    changed = {
        "add_tag": lambda: _bulk_tag(targets, params, add=True),
        "remove_tag": lambda: _bulk_tag(targets, params, add=False),
        "assign": lambda: _bulk_assign(targets, params, user),
        "stage": lambda: _bulk_stage(targets, params, user),
        "lost": lambda: _bulk_lost(targets, params, user),
        "archive": lambda: _bulk_archive(targets, archived=True),
        "unarchive": lambda: _bulk_archive(targets, archived=False),
        "delete": lambda: _bulk_delete(targets),
    }[action]()
    db.session.commit()
    return changed


def _bulk_tag(targets: list[Opportunity], params: Mapping, *, add: bool) -> int:
    tag = clean_field("tag_id", record, params.get("tag_id"), model=Tag, required=True,
                      message=_l("Choose a tag."))
    changed = 0
    for opportunity in targets:
        has = tag in opportunity.tags
        if add and not has:
            opportunity.tags.append(tag)
            changed += 1
        elif not add and has:
            opportunity.tags.remove(tag)
            changed += 1
    return changed


def _bulk_assign(targets: list[Opportunity], params: Mapping, user) -> int:
    message = _l("Choose a person whose records you see.")
    owner = clean_field("owner_id", record, params.get("owner_id"), model=User, required=True,
                        message=message)
    if not owner.is_active or not in_scope(owner.id, user):
        raise InvalidInput({"owner_id": [message]})
    changed = 0
    for opportunity in targets:
        if opportunity.owner_id != owner.id:
            old = opportunity.owner.name
            opportunity.owner_id = owner.id
            db.session.flush()
            record_changes(opportunity, user, [Change("owner", old, owner.name)],
                    was_open=opportunity.is_open)
            changed += 1
    return changed


def _bulk_stage(targets: list[Opportunity], params: Mapping, user) -> int:
    stage = chosen_stage(params.get("stage_id"))
    changed = 0
    for opportunity in targets:
        if opportunity.is_open and opportunity.stage_id != stage.id:
            old = opportunity.stage.name
            opportunity.stage, opportunity.stage_entered_at = stage, utcnow()
            db.session.flush()
            record_changes(opportunity, user, [Change("stage", old, stage.name, stage.id)],
                           was_open=True)
            changed += 1
    return changed


def _bulk_lost(targets: list[Opportunity], params: Mapping, user) -> int:
    reason = chosen_loss_reason(params.get("loss_reason_id"))
    changed = 0
    for opportunity in targets:
        if opportunity.status != STATUS_LOST:
            status_change(opportunity, STATUS_LOST, user, loss_reason=reason)
            changed += 1
    return changed


def _bulk_archive(targets: list[Opportunity], *, archived: bool) -> int:
    changed = 0
    for opportunity in targets:
        if opportunity.archived != archived:
            opportunity.archived = archived
            changed += 1
    return changed


def _bulk_delete(targets: list[Opportunity]) -> int:
    for opportunity in targets:
        db.session.delete(opportunity)
    return len(targets)
