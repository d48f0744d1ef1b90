"""An opportunity's moves through the funnel: to another stage, won, lost (always with a
reason), reopened; each recorded in its history (history.py). Re-exported by
opportunities.py, whose commands they are."""

from __future__ import annotations

from typing import Any

from erp.db import db, utcnow
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.textrules import MESSAGE as TEXT_MESSAGE
from erp.textrules import storable
from erp.validation import clean_field, record

from ..models import STATUS_LOST, STATUS_OPEN, STATUS_WON, LossReason, Opportunity, Stage
from .accounts import promote_to_customer
from .history import Change, record_changes

_l = module_i18n(__name__).lazy_gettext


def move_to_stage(opportunity: Opportunity, stage_id: Any, *, user) -> Opportunity:
    """The funnel's drag and drop: a stage change, recorded like any other."""
    stage = chosen_stage(stage_id)
    if not opportunity.is_open:
        raise InvalidInput({"stage_id": [_l("This opportunity is closed: reopen it first.")]})
    if stage.id == opportunity.stage_id:
        return opportunity
    old = opportunity.stage.name
    opportunity.stage = stage
    opportunity.stage_entered_at = utcnow()
    db.session.flush()
    record_changes(opportunity, user, [Change("stage", old, stage.name, stage.id)],
                   was_open=True)
    db.session.commit()
    return opportunity


def status_change(opportunity: Opportunity, status: str, user, **fields) -> Opportunity:
    """Set the status (and ``fields``) and record it; the caller commits. Lost: the stage
    it stands in is kept as the stage where it was lost (cleared when won or reopened)."""
    was_open, old = opportunity.is_open, opportunity.status
    if status == STATUS_LOST and old != STATUS_LOST:
        opportunity.lost_stage_id = opportunity.stage_id
    elif status != STATUS_LOST:
        opportunity.lost_stage_id = None
    opportunity.status = status
    opportunity.closed_at = None if status == STATUS_OPEN else utcnow()
    for key, value in fields.items():
        setattr(opportunity, key, value)
    db.session.flush()
    new = status if status != STATUS_LOST else f"{status}: {opportunity.loss_reason.name}"
    record_changes(opportunity, user, [Change("status", old, new)], was_open=was_open)
    return opportunity


def mark_won(opportunity: Opportunity, *, user) -> Opportunity:
    """Won: the account becomes a customer (seed 000: account → opportunity → customer)."""
    if opportunity.status == STATUS_WON:
        return opportunity
    status_change(opportunity, STATUS_WON, user, loss_reason_id=None, loss_note=None)
    promote_to_customer(opportunity.account)
    db.session.commit()
    return opportunity


def chosen_stage(stage_id: Any) -> Stage:
    """The stage the input names (a refusal otherwise); shared with bulk.py."""
    return clean_field("stage_id", record, stage_id, model=Stage, required=True,
                       message=_l("Choose a stage of the funnel."))


def chosen_loss_reason(reason_id: Any) -> LossReason:
    """The loss reason the input names, not archived (a refusal otherwise)."""
    message = _l("Choose why the opportunity was lost.")
    reason = clean_field("loss_reason_id", record, reason_id, model=LossReason, required=True,
                         message=message)
    if reason.archived:
        raise InvalidInput({"loss_reason_id": [message]})
    return reason


def mark_lost(opportunity: Opportunity, *, user, loss_reason_id: Any,
              note: str | None = None) -> Opportunity:
    """Lost, always with a reason (seed 004); never without one."""
    reason = chosen_loss_reason(loss_reason_id)
    note = (note or "").strip() or None
    if note and not storable(note):  # the form's raw text, not a WTForms field
        raise InvalidInput({"loss_note": [TEXT_MESSAGE]})
    status_change(opportunity, STATUS_LOST, user, loss_reason=reason, loss_note=note)
    db.session.commit()
    return opportunity


def reopen(opportunity: Opportunity, *, user) -> Opportunity:
    if opportunity.is_open:
        return opportunity
    status_change(opportunity, STATUS_OPEN, user, loss_reason_id=None, loss_note=None)
    db.session.commit()
    return opportunity
