"""Opportunities: create and edit with items, move through stages, win, lose, reopen;
every change recorded, and the watchers told (history.py). Many at once: bulk.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from flask import abort
from sqlalchemy import delete, select

from erp.auth import in_scope, scope_clause
from erp.auth.models import User
from erp.db import db, utcnow
from erp.errors import Conflict
from erp.formats import parse_decimal
from erp.i18n import module_i18n
from erp.money import CENT, MAX_MONEY, MAX_QUANTITY
from erp.validation import Errors, choice, date, record, record_id

from ..models import (
    CONTACT_MEDIA,
    STATUS_OPEN,
    Account,
    Opportunity,
    OpportunityDraft,
    OpportunityItem,
    Stage,
    Tag,
)
from .contacts import is_choosable_contact
from .external_refs import clean_external_ref
from .history import Change, record_changes, user_name
from .pipeline_moves import (  # noqa: F401 (the opportunity's commands, kept here by name)
    chosen_loss_reason,
    chosen_stage,
    mark_lost,
    mark_won,
    move_to_stage,
    reopen,
    status_change,
)
from .scope import visible_record
from .service_types import service_type_id

_l = module_i18n(__name__).lazy_gettext

TEXT_FIELDS = {"title": 200, "subject_note": 5000, "source_campaign": 120}
USER_FIELDS = ("owner_id", "next_contact_user_id", "internal_contact_user_id")
DATE_FIELDS = ("expected_close_on", "next_contact_on", "internal_contact_on")
MAX_ITEMS = 200
# crm_opportunity.estimated_value is NUMERIC(14, 2): the items' sum must stay below this.
MAX_VALUE = MAX_MONEY


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


OPPORTUNITY_FIELDS = (*TEXT_FIELDS, *USER_FIELDS, *DATE_FIELDS, "account_id", "contact_id",
                      "stage_id", "priority", "contact_medium", "service_type_id", "items",
                      "tag_ids", "watcher_ids", "external_ref")
# The external reference (issue 19) of another opportunity: named if the user sees it.
EXTERNAL_REF_TAKEN_ELSEWHERE = _l("Another opportunity, in another portfolio, already has "
                                  "this external reference; ask a manager.")


def _external_ref_taken(opportunity: Opportunity) -> str:
    return _l("Another opportunity already has this external reference (%(title)s).",
              title=opportunity.title)


def _clean_items(rows: Iterable[Mapping[str, Any]], errors: Errors) -> list[dict]:
    items = []
    for index, row in enumerate(rows):
        description = (str(row.get("description") or "")).strip()
        quantity, price = row.get("quantity"), row.get("unit_price")
        if not description and not str(quantity or "").strip() and not str(price or "").strip():
            continue  # an empty row of the form
        if not description:
            errors.add(f"items-{index}-description", _l("Describe the product or service."))
        elif len(description) > 255:
            errors.add(f"items-{index}-description", _l("At most %(n)d characters.", n=255))
        try:
            quantity = parse_decimal(quantity) if str(quantity or "").strip() else Decimal(1)
            if quantity <= 0 or quantity >= MAX_QUANTITY:
                raise ValueError
        except ValueError:
            errors.add(f"items-{index}-quantity", _l("Use a quantity greater than zero."))
            quantity = None
        try:
            price = parse_decimal(price) if str(price or "").strip() else Decimal(0)
            if price < 0 or price >= MAX_MONEY:
                raise ValueError
        except ValueError:
            errors.add(f"items-{index}-unit_price", _l("Use a price such as 1.234,56."))
            price = None
        items.append({"description": description, "quantity": quantity, "unit_price": price})
    if len(items) > MAX_ITEMS:
        errors.add("items", _l("At most %(n)d items.", n=MAX_ITEMS))
    priced = [(i["quantity"] * i["unit_price"]).quantize(CENT) for i in items
              if i["quantity"] is not None and i["unit_price"] is not None]
    if sum(priced, Decimal(0)) >= MAX_VALUE:
        errors.add("items", _l("The items add up to more than the largest value an "
                               "opportunity may have."))
    return items


def clean_opportunity(data: Mapping[str, Any], *, user, current: Opportunity | None = None
                      ) -> dict[str, Any]:
    """Validate opportunity input (a subset on update); raises InvalidInput per field."""
    errors = Errors()
    errors.unknown(data, OPPORTUNITY_FIELDS)
    out: dict[str, Any] = errors.texts(data, TEXT_FIELDS)
    if (current is None or "title" in data) and not out.get("title"):
        errors.add("title", _l("Give the opportunity a title, e.g. “ERP + NFS-e”."))
    _clean_account(data, user, current, out, errors)
    _clean_stage(data, current, out, errors)
    _clean_people(data, user, current, out, errors)
    for field in DATE_FIELDS:
        if field in data:
            out[field] = errors.clean(field, date, data[field])
    if "priority" in data:
        out["priority"] = bool(data["priority"])
    if "contact_medium" in data:
        out["contact_medium"] = errors.clean(
            "contact_medium", choice, data["contact_medium"], choices=CONTACT_MEDIA,
            message=_l("Choose how the contact came in."))
    _clean_service_type(data, current, out, errors)
    if "items" in data:
        out["items"] = _clean_items(data["items"] or (), errors)
    _clean_tags_and_watchers(data, out, errors)
    clean_external_ref(data, out, errors, model=Opportunity, current=current, user=user,
                       taken=_external_ref_taken, taken_elsewhere=EXTERNAL_REF_TAKEN_ELSEWHERE)
    errors.raise_if_any()
    return out


def _clean_service_type(data: Mapping, current: Opportunity | None, out: dict,
                        errors: Errors) -> None:
    """One of the company's service types (seed 002; services/service_types.py): an
    active one, or the one the opportunity has already, even if deactivated since."""
    if "service_type_id" in data:
        out["service_type_id"] = errors.clean(
            "service_type_id", service_type_id, data["service_type_id"],
            current_id=current.service_type_id if current is not None else None)


def _clean_account(data: Mapping, user, current: Opportunity | None, out: dict,
                   errors: Errors) -> None:
    """An account the user sees, and one of its contacts."""
    if "account_id" in data or current is None:
        account = errors.clean("account_id", visible_record, data.get("account_id"),
                               model=Account, user=user, required=True,
                               message=_l("Choose an account you can see."))
        if account is not None:
            out["account_id"] = account.id
    account_id = out.get("account_id", getattr(current, "account_id", None))
    if "contact_id" in data:
        message = _l("Choose one of the account's contacts.")
        contact_id = errors.clean("contact_id", record_id, data["contact_id"], message=message)
        if contact_id and not is_choosable_contact(
                account_id, contact_id, current.contact_id if current is not None else None):
            errors.add("contact_id", message)  # archived or unlinked: not a new choice
        out["contact_id"] = contact_id


def _clean_stage(data: Mapping, current: Opportunity | None, out: dict,
                 errors: Errors) -> None:
    """A stage of the funnel; a new opportunity starts in the first by default."""
    if "stage_id" not in data and current is not None:
        return
    message = _l("Choose a stage of the funnel.")
    stage = errors.clean("stage_id", record, data.get("stage_id"), model=Stage, message=message)
    if "stage_id" in errors:
        return
    stage = stage or db.session.scalars(select(Stage).order_by(Stage.sequence, Stage.id)).first()
    if stage is None:
        errors.add("stage_id", message)
    else:
        out["stage_id"] = stage.id


def _clean_people(data: Mapping, user, current: Opportunity | None, out: dict,
                  errors: Errors) -> None:
    """Active users: the owner (the user by default, someone whose records they see) and
    who makes the next contact and the internal contact (none by default)."""
    message = _l("Choose an active user.")
    for field in USER_FIELDS:
        if field not in data and not (field == "owner_id" and current is None):
            continue
        user_id = errors.clean(field, record_id, data.get(field), message=message)
        if field in errors:
            continue
        user_id = user_id or (user.id if field == "owner_id" else None)
        if user_id is None:
            out[field] = None
            continue
        person = db.session.get(User, user_id)
        if person is None or not person.is_active:
            errors.add(field, message)
        elif (field == "owner_id" and user_id != getattr(current, "owner_id", None)
              and not in_scope(user_id, user)):
            errors.add(field, _l("You may only assign opportunities to people whose records "
                                 "you see."))
        else:
            out[field] = user_id


def _record_ids(values: Any, *, message: Any) -> set[int]:
    """A parser: the ids of a list, each one a record id."""
    return {record_id(value, required=True, message=message) for value in values or ()}


def _clean_tags_and_watchers(data: Mapping, out: dict, errors: Errors) -> None:
    """Existing tags; active users as watchers."""
    if "tag_ids" in data:
        message = _l("Choose existing tags.")
        ids = errors.clean("tag_ids", _record_ids, data["tag_ids"], message=message)
        out["tags"] = list(db.session.scalars(select(Tag).where(Tag.id.in_(ids)))) if ids else []
        if ids is not None and len(out["tags"]) != len(ids):
            errors.add("tag_ids", message)
    if "watcher_ids" in data:
        message = _l("Choose active users.")
        ids = errors.clean("watcher_ids", _record_ids, data["watcher_ids"], message=message)
        out["watchers"] = list(db.session.scalars(
            select(User).where(User.id.in_(ids), User.active.is_(True)))) if ids else []
        if ids is not None and len(out["watchers"]) != len(ids):
            errors.add("watcher_ids", message)


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
    record_changes(opportunity, user, [Change("created", None, opportunity.stage.name,
                                              opportunity.stage_id)],
                   was_open=True)


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
    record_changes(opportunity, user, _diff(before, opportunity), was_open=before["open"])
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
        changes.append(Change("stage", before["stage"], new_stage.name, new_stage.id))
    if opportunity.owner_id != before["owner_id"]:
        changes.append(Change("owner", user_name(before["owner_id"]),
                              user_name(opportunity.owner_id)))
    if Decimal(opportunity.estimated_value) != Decimal(before["value"]):
        changes.append(Change("value", f"{Decimal(before['value']):.2f}",
                              f"{Decimal(opportunity.estimated_value):.2f}"))
    if not changes:
        changes.append(Change("details", None, None))
    return changes


def _drop_draft(draft_id: int | None, user) -> None:
    if draft_id:
        db.session.execute(delete(OpportunityDraft).where(
            OpportunityDraft.id == draft_id, OpportunityDraft.user_id == user.id))
