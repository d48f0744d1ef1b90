"""Opportunities: create and edit with items, move through stages, win, lose, archive,
delete; every change recorded, and the watchers told by e-mail (through the outbox)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import abort, current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from erp.auth import in_scope, scope_clause
from erp.auth.models import User
from erp.db import db, utcnow
from erp.formats import parse_date, parse_decimal
from erp.mail import queue_mail
from erp.params import parse_int
from erp.textrules import MESSAGE as TEXT_MESSAGE
from erp.textrules import storable

from ..models import (
    CONTACT_MEDIA,
    STATUS_LOST,
    STATUS_OPEN,
    STATUS_WON,
    Account,
    AccountContact,
    LossReason,
    Opportunity,
    OpportunityChange,
    OpportunityDraft,
    OpportunityItem,
    Stage,
    Tag,
)
from .accounts import promote_to_customer
from .errors import Conflict, InvalidInput

TEXT_FIELDS = {"title": 200, "subject_note": 5000, "service_type": 80, "source_campaign": 120}
USER_FIELDS = ("owner_id", "next_contact_user_id", "internal_contact_user_id")
DATE_FIELDS = ("expected_close_on", "next_contact_on", "internal_contact_on")
MAX_ITEMS = 200
# crm_opportunity.estimated_value is NUMERIC(14, 2): the items' sum must stay below this.
MAX_VALUE = Decimal("1e12")


def opportunity_scope(user):
    return scope_clause(Opportunity.owner_id, user)


def get_opportunity_or_404(opportunity_id: int, user) -> Opportunity:
    """The opportunity if the user may see it: by record scope, or because they were asked
    to follow it (next contact, internal contact, watcher); 404 otherwise."""
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None:
        abort(404)
    followers = {opportunity.next_contact_user_id, opportunity.internal_contact_user_id}
    if not (in_scope(opportunity.owner_id, user) or user.id in followers
            or user in opportunity.watchers):
        abort(404)
    return opportunity


# --- input ----------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    if value in (None, "", "__None"):
        return None
    # Out of range as well as garbage: an id the database could not even bind (a 500).
    return parse_int(value, -1)  # -1, never an id: reported as "choose an existing ..."


def _clean_items(rows: Iterable[Mapping[str, Any]], fail) -> list[dict]:
    items = []
    for index, row in enumerate(rows):
        description = (str(row.get("description") or "")).strip()
        quantity, price = row.get("quantity"), row.get("unit_price")
        if not description and not str(quantity or "").strip() and not str(price or "").strip():
            continue  # an empty row of the form
        if not description:
            fail(f"items-{index}-description", _l("Describe the product or service."))
        elif len(description) > 255:
            fail(f"items-{index}-description", _l("At most %(n)d characters.", n=255))
        try:
            quantity = parse_decimal(quantity) if str(quantity or "").strip() else Decimal(1)
            if quantity <= 0 or quantity >= Decimal("1e9"):
                raise ValueError
        except ValueError:
            fail(f"items-{index}-quantity", _l("Use a quantity greater than zero."))
            quantity = None
        try:
            price = parse_decimal(price) if str(price or "").strip() else Decimal(0)
            if price < 0 or price >= Decimal("1e12"):
                raise ValueError
        except ValueError:
            fail(f"items-{index}-unit_price", _l("Use a price such as 1.234,56."))
            price = None
        items.append({"description": description, "quantity": quantity, "unit_price": price})
    if len(items) > MAX_ITEMS:
        fail("items", _l("At most %(n)d items.", n=MAX_ITEMS))
    priced = [(i["quantity"] * i["unit_price"]).quantize(Decimal("0.01")) for i in items
              if i["quantity"] is not None and i["unit_price"] is not None]
    if sum(priced, Decimal(0)) >= MAX_VALUE:
        fail("items", _l("The items add up to more than the largest value an opportunity "
                         "may have."))
    return items


def clean_opportunity(data: Mapping[str, Any], *, user, current: Opportunity | None = None
                      ) -> dict[str, Any]:
    """Validate opportunity input (a subset on update); raises InvalidInput per field."""
    errors: dict[str, list] = {}
    out: dict[str, Any] = {}

    def fail(field: str, message) -> None:
        errors.setdefault(field, []).append(message)

    known = {*TEXT_FIELDS, *USER_FIELDS, *DATE_FIELDS, "account_id", "contact_id", "stage_id",
             "priority", "contact_medium", "items", "tag_ids", "watcher_ids"}
    for field in sorted(set(data) - known):
        fail(field, _l("Unknown field."))

    for field, limit in TEXT_FIELDS.items():
        if field in data:
            out[field] = (str(data[field]).strip() if data[field] is not None else "") or None
            if out[field] and len(out[field]) > limit:
                fail(field, _l("At most %(n)d characters.", n=limit))
    if (current is None or "title" in data) and not out.get("title"):
        fail("title", _l("Give the opportunity a title, e.g. “ERP + NFS-e”."))

    if "account_id" in data or current is None:
        account = db.session.get(Account, _int(data.get("account_id")) or 0)
        if account is None or not in_scope(account.owner_id, user):
            fail("account_id", _l("Choose an account you can see."))
        else:
            out["account_id"] = account.id
    account_id = out.get("account_id", getattr(current, "account_id", None))

    if "contact_id" in data:
        contact_id = _int(data["contact_id"])
        if contact_id and not db.session.get(AccountContact, (account_id or 0, contact_id)):
            fail("contact_id", _l("Choose one of the account's contacts."))
        out["contact_id"] = contact_id

    if "stage_id" in data or current is None:
        stage_id = _int(data.get("stage_id"))
        stage = db.session.get(Stage, stage_id) if stage_id else db.session.scalars(
            select(Stage).order_by(Stage.sequence, Stage.id)).first()
        if stage is None:
            fail("stage_id", _l("Choose a stage of the funnel."))
        else:
            out["stage_id"] = stage.id

    for field in USER_FIELDS:
        if field in data or (field == "owner_id" and current is None):
            user_id = _int(data.get(field)) or (user.id if field == "owner_id" else None)
            if user_id is None:
                out[field] = None
                continue
            person = db.session.get(User, user_id)
            if person is None or not person.is_active:
                fail(field, _l("Choose an active user."))
            elif (field == "owner_id" and user_id != getattr(current, "owner_id", None)
                  and not in_scope(user_id, user)):
                fail(field, _l("You may only assign opportunities to people whose records "
                               "you see."))
            else:
                out[field] = user_id

    for field in DATE_FIELDS:
        if field in data:
            try:
                out[field] = parse_date(data[field])
            except ValueError:
                fail(field, _l("Use a date such as 31/12/2026."))

    if "priority" in data:
        out["priority"] = bool(data["priority"])
    if "contact_medium" in data:
        out["contact_medium"] = data["contact_medium"] or None
        if out["contact_medium"] and out["contact_medium"] not in CONTACT_MEDIA:
            fail("contact_medium", _l("Choose how the contact came in."))
    if "items" in data:
        out["items"] = _clean_items(data["items"] or (), fail)
    if "tag_ids" in data:
        ids = {_int(t) for t in data["tag_ids"] or ()}
        out["tags"] = list(db.session.scalars(select(Tag).where(Tag.id.in_(ids)))) if ids else []
        if len(out["tags"]) != len(ids):
            fail("tag_ids", _l("Choose existing tags."))
    if "watcher_ids" in data:
        ids = {_int(w) for w in data["watcher_ids"] or ()}
        out["watchers"] = list(db.session.scalars(
            select(User).where(User.id.in_(ids), User.active.is_(True)))) if ids else []
        if len(out["watchers"]) != len(ids):
            fail("watcher_ids", _l("Choose active users."))
    if errors:
        raise InvalidInput(errors)
    return out


# --- history and watchers ---------------------------------------------------------------


@dataclass
class Change:
    field: str
    old: str | None
    new: str | None


def _user_name(user_id: int | None) -> str | None:
    return db.session.get(User, user_id).name if user_id else None


def _record(opportunity: Opportunity, user, changes: list[Change], *, was_open: bool) -> None:
    """Write the history rows and queue the watchers' e-mail, in the caller's transaction."""
    if not changes:
        return
    now = utcnow()
    for change in changes:
        db.session.add(OpportunityChange(
            opportunity_id=opportunity.id, account_id=opportunity.account_id, at=now,
            user_id=user.id, field=change.field, old_value=change.old, new_value=change.new))
    if was_open:
        _notify_watchers(opportunity, user, changes)


FIELD_LABELS = {"created": _l("Created"), "stage": _l("Stage"), "status": _l("Status"),
                "owner": _l("Owner"), "value": _l("Estimated value"),
                "details": _l("Details"), "archived": _l("Archived")}


def _notify_watchers(opportunity: Opportunity, actor, changes: list[Change]) -> None:
    """Seed 002's "Spy System": every change, by e-mail, until the opportunity is closed."""
    recipients = sorted({w.email for w in opportunity.watchers
                         if w.id != actor.id and w.active and w.email})
    if not recipients:
        return
    path = f"/crm/opportunities/{opportunity.id}"
    link = (url_for("crm.opportunity", opportunity_id=opportunity.id, _external=True)
            if has_request_context() else current_app.config["ERP_BASE_URL"].rstrip("/") + path)
    lines = [f"{opportunity.title} — {opportunity.account.display_name}", ""]
    for change in changes:
        label = FIELD_LABELS.get(change.field, change.field)
        if change.old is None:
            lines.append(f"• {label}: {change.new or ''}")
        else:
            lines.append(f"• {label}: {change.old} → {change.new or ''}")
    lines += ["", f"{actor.name}", link]
    queue_mail(recipients, f"[CRM] {opportunity.title}: "
               + ", ".join(str(FIELD_LABELS.get(c.field, c.field)) for c in changes),
               "\n".join(lines), source="crm.watchers")


# --- commands -------------------------------------------------------------------------


def _apply_items(opportunity: Opportunity, items: list[dict]) -> None:
    opportunity.items = [OpportunityItem(position=i, **item) for i, item in enumerate(items)]
    opportunity.estimated_value = opportunity.compute_estimated_value()


def new_opportunity(values: Mapping[str, Any]) -> Opportunity:
    """An open opportunity from cleaned input (:func:`clean_opportunity`), its items and
    value set; not yet in the session. The import builds a batch of them, then flushes."""
    values = dict(values)
    items = values.pop("items", [])
    values.setdefault("watchers", [])  # known empty: telling watchers needs no query
    opportunity = Opportunity(status=STATUS_OPEN, **values)
    _apply_items(opportunity, items)
    return opportunity


def record_created(opportunity: Opportunity, user) -> None:
    """The "created" history row of a new, flushed opportunity (watchers told); the caller
    commits."""
    _record(opportunity, user, [Change("created", None, opportunity.stage.name)], was_open=True)


def create_opportunity(data: Mapping[str, Any], *, user, draft_id: int | None = None
                       ) -> Opportunity:
    opportunity = new_opportunity(clean_opportunity(data, user=user))
    db.session.add(opportunity)
    db.session.flush()
    record_created(opportunity, user)
    _drop_draft(draft_id, user)
    db.session.commit()
    return opportunity


def update_opportunity(opportunity: Opportunity, data: Mapping[str, Any], *, user,
                       expected_version: int | None = None,
                       draft_id: int | None = None) -> Opportunity:
    if expected_version is not None and expected_version != opportunity.version:
        raise Conflict(current_version=opportunity.version)
    values = clean_opportunity(data, user=user, current=opportunity)
    before = _snapshot(opportunity)
    items = values.pop("items", None)
    for key, value in values.items():
        setattr(opportunity, key, value)
    if items is not None:
        _apply_items(opportunity, items)
    if opportunity.stage_id != before["stage_id"]:
        opportunity.stage_entered_at = utcnow()
    db.session.flush()
    _record(opportunity, user, _diff(before, opportunity), was_open=before["open"])
    _drop_draft(draft_id, user)
    db.session.commit()
    return opportunity


def _snapshot(opportunity: Opportunity) -> dict:
    return {"stage_id": opportunity.stage_id, "stage": opportunity.stage.name,
            "owner_id": opportunity.owner_id, "value": opportunity.estimated_value,
            "open": opportunity.is_open, "status": opportunity.status}


def _diff(before: dict, opportunity: Opportunity) -> list[Change]:
    changes = []
    if opportunity.stage_id != before["stage_id"]:
        new_stage = db.session.get(Stage, opportunity.stage_id)
        changes.append(Change("stage", before["stage"], new_stage.name))
    if opportunity.owner_id != before["owner_id"]:
        changes.append(Change("owner", _user_name(before["owner_id"]),
                              _user_name(opportunity.owner_id)))
    if Decimal(opportunity.estimated_value) != Decimal(before["value"]):
        changes.append(Change("value", f"{Decimal(before['value']):.2f}",
                              f"{Decimal(opportunity.estimated_value):.2f}"))
    if not changes:
        changes.append(Change("details", None, None))
    return changes


def move_to_stage(opportunity: Opportunity, stage_id: Any, *, user) -> Opportunity:
    """The funnel's drag and drop: a stage change, recorded like any other."""
    stage = db.session.get(Stage, _int(stage_id) or 0)
    if stage is None:
        raise InvalidInput({"stage_id": [_l("Choose a stage of the funnel.")]})
    if not opportunity.is_open:
        raise InvalidInput({"stage_id": [_l("This opportunity is closed: reopen it first.")]})
    if stage.id == opportunity.stage_id:
        return opportunity
    old = opportunity.stage.name
    opportunity.stage = stage
    opportunity.stage_entered_at = utcnow()
    db.session.flush()
    _record(opportunity, user, [Change("stage", old, stage.name)], was_open=True)
    db.session.commit()
    return opportunity


def _status_change(opportunity: Opportunity, status: str, user, **fields) -> Opportunity:
    was_open, old = opportunity.is_open, opportunity.status
    opportunity.status = status
    opportunity.closed_at = None if status == STATUS_OPEN else utcnow()
    for key, value in fields.items():
        setattr(opportunity, key, value)
    db.session.flush()
    new = status if status != STATUS_LOST else f"{status}: {opportunity.loss_reason.name}"
    _record(opportunity, user, [Change("status", old, new)], was_open=was_open)
    return opportunity


def mark_won(opportunity: Opportunity, *, user) -> Opportunity:
    """Won: the account becomes a customer (seed 000: account → opportunity → customer)."""
    if opportunity.status == STATUS_WON:
        return opportunity
    _status_change(opportunity, STATUS_WON, user, loss_reason_id=None, loss_note=None)
    promote_to_customer(opportunity.account)
    db.session.commit()
    return opportunity


def _loss_reason(reason_id: Any) -> LossReason:
    reason = db.session.get(LossReason, _int(reason_id) or 0)
    if reason is None or reason.archived:
        raise InvalidInput({"loss_reason_id": [_l("Choose why the opportunity was lost.")]})
    return reason


def mark_lost(opportunity: Opportunity, *, user, loss_reason_id: Any,
              note: str | None = None) -> Opportunity:
    """Lost, always with a reason (seed 004); never without one."""
    reason = _loss_reason(loss_reason_id)
    note = (note or "").strip() or None
    if note and not storable(note):  # the form's raw text, not a WTForms field
        raise InvalidInput({"loss_note": [TEXT_MESSAGE]})
    _status_change(opportunity, STATUS_LOST, user, loss_reason=reason, loss_note=note)
    db.session.commit()
    return opportunity


def reopen(opportunity: Opportunity, *, user) -> Opportunity:
    if opportunity.is_open:
        return opportunity
    _status_change(opportunity, STATUS_OPEN, user, loss_reason_id=None, loss_note=None)
    db.session.commit()
    return opportunity


def _drop_draft(draft_id: int | None, user) -> None:
    if draft_id:
        db.session.execute(delete(OpportunityDraft).where(
            OpportunityDraft.id == draft_id, OpportunityDraft.user_id == user.id))


# --- many at once -------------------------------------------------------------------------

BULK_ACTIONS = ("add_tag", "remove_tag", "assign", "stage", "lost", "archive", "unarchive",
                "delete")


def bulk_apply(ids: Iterable[Any], action: str, *, user, **params) -> int:
    """Apply ``action`` to the opportunities among ``ids`` the user may see.

    Returns how many changed. Runs in one transaction: a refusal changes nothing.
    """
    if action not in BULK_ACTIONS:
        raise InvalidInput({"action": [_l("Choose an action.")]})
    wanted = {i for i in (_int(x) for x in ids) if i and i > 0}
    if not wanted:
        raise InvalidInput({"ids": [_l("Select at least one opportunity.")]})
    targets = list(db.session.scalars(
        select(Opportunity).where(Opportunity.id.in_(wanted), opportunity_scope(user))
        .order_by(Opportunity.id)))
    changed = 0
    if action in ("add_tag", "remove_tag"):
        tag = db.session.get(Tag, _int(params.get("tag_id")) or 0)
        if tag is None:
            raise InvalidInput({"tag_id": [_l("Choose a tag.")]})
        for opportunity in targets:
            has = tag in opportunity.tags
            if action == "add_tag" and not has:
                opportunity.tags.append(tag)
                changed += 1
            elif action == "remove_tag" and has:
                opportunity.tags.remove(tag)
                changed += 1
    elif action == "assign":
        owner_id = _int(params.get("owner_id"))
        owner = db.session.get(User, owner_id or 0)
        if owner is None or not owner.is_active or not in_scope(owner_id, user):
            raise InvalidInput({"owner_id": [_l("Choose a person whose records you see.")]})
        for opportunity in targets:
            if opportunity.owner_id != owner_id:
                old = opportunity.owner.name
                opportunity.owner_id = owner_id
                db.session.flush()
                _record(opportunity, user, [Change("owner", old, owner.name)],
                        was_open=opportunity.is_open)
                changed += 1
    elif action == "stage":
        stage = db.session.get(Stage, _int(params.get("stage_id")) or 0)
        if stage is None:
            raise InvalidInput({"stage_id": [_l("Choose a stage of the funnel.")]})
        for opportunity in targets:
            if opportunity.is_open and opportunity.stage_id != stage.id:
                old = opportunity.stage.name
                opportunity.stage, opportunity.stage_entered_at = stage, utcnow()
                db.session.flush()
                _record(opportunity, user, [Change("stage", old, stage.name)], was_open=True)
                changed += 1
    elif action == "lost":
        reason = _loss_reason(params.get("loss_reason_id"))
        for opportunity in targets:
            if opportunity.status != STATUS_LOST:
                _status_change(opportunity, STATUS_LOST, user, loss_reason=reason)
                changed += 1
    elif action in ("archive", "unarchive"):
        archived = action == "archive"
        for opportunity in targets:
            if opportunity.archived != archived:
                opportunity.archived = archived
                changed += 1
    elif action == "delete":
        for opportunity in targets:
            db.session.delete(opportunity)
            changed += 1
    db.session.commit()
    return changed
