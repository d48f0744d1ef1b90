"""/accounts/merge, /contacts/merge and /merges/undo: merging two accounts or two
contacts (issue 18), as the merge page does (services/merge.py): a manager's (crm.manage
and crm.write), both records within the caller's scope (404 otherwise)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import marshmallow as ma
from flask_login import current_user
from werkzeug.exceptions import NotFound

from erp.api import Blueprint
from erp.api.errors import ErrorDetailSchema
from erp.api.fields import Id, UtcDateTime, enum
from erp.db import db
from erp.errors import Conflict, InvalidInput

from ..models import MergeLog
from ..models.merge import KIND_ACCOUNT, KIND_CONTACT
from ..permissions import MANAGE, WRITE
from ..services import merge as service
from ..services.scope import get_account_or_404, get_contact_or_404
from .common import requires
from .errors import STALE_VERSION, conflict
from .schemas import Schema

MERGE_REFUSED = "merge_refused"
UNDO_REFUSED = "undo_refused"
GETTERS = {KIND_ACCOUNT: get_account_or_404, KIND_CONTACT: get_contact_or_404}

blp = Blueprint("crm-merge", __name__, description=(
    "Merging two accounts, or two contacts, into one: the survivor takes the values picked "
    "field by field, every module's records of the merged one move to it, and the merged "
    "one is kept archived with `merged_into_id`. A merge can be undone within 30 days. "
    "For managers (crm.manage and crm.write); both records must be within your scope."))


# --- schemas -----------------------------------------------------------------------------


class MergeRequestSchema(Schema):
    survivor_id = Id(required=True, metadata={"description": "The record that stays"})
    merged_id = Id(required=True, metadata={"description": "The record merged into it"})
    picks = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(max=63)),
        values=enum((service.SURVIVOR, service.MERGED)), load_default=dict,
        validate=ma.validate.Length(max=100), metadata={"description": (
            "Per field, whose value stays: `survivor` or `merged`. A field left out takes "
            "the non-empty value, of two the most recently changed record's.")})
    survivor_version = ma.fields.Integer(strict=True, allow_none=True, metadata={
        "description": "The survivor's version you compared (409 `stale_version` if not)"})
    merged_version = ma.fields.Integer(strict=True, allow_none=True, metadata={
        "description": "The merged record's version you compared"})


class UndoRequestSchema(Schema):
    merge_id = Id(required=True, metadata={"description": "The merge to undo"})


class FieldSchema(ma.Schema):
    name = ma.fields.String()
    survivor = ma.fields.Raw(allow_none=True)
    merged = ma.fields.Raw(allow_none=True)
    pick = ma.fields.String(metadata={"description": "`survivor` or `merged`"})


class MoveSchema(ma.Schema):
    handler = ma.fields.String(metadata={"description": "The module's merge handler"})
    lines = ma.fields.List(ma.fields.String())


class PreviewSchema(ma.Schema):
    fields = ma.fields.List(ma.fields.Nested(FieldSchema))
    moves = ma.fields.List(ma.fields.Nested(MoveSchema))
    problems = ma.fields.List(ma.fields.String(), metadata={
        "description": "Why the merge would be refused (empty: it may be done)"})
    survivor_version = ma.fields.Integer()
    merged_version = ma.fields.Integer()


class MergeSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "`account` or `contact`"})
    survivor_id = ma.fields.Integer()
    merged_id = ma.fields.Integer()
    at = UtcDateTime()
    undone_at = UtcDateTime(allow_none=True)
    undo_until = UtcDateTime(metadata={"description": "Undo is possible until then"})


class MergeErrorDetailSchema(ErrorDetailSchema):
    problems = ma.fields.List(ma.fields.String(), metadata={
        "description": "code merge_refused / undo_refused: why"})
    current_version = ma.fields.Integer(metadata={
        "description": "code stale_version: the record's version now"})


class MergeErrorSchema(ma.Schema):
    error = ma.fields.Nested(MergeErrorDetailSchema, required=True)


# --- helpers -------------------------------------------------------------------------------


def _answers(schema):
    """A merge view's answer (200, ``schema``) and its documented 404 and 409."""

    def decorator(view):
        view = blp.alt_response(404, "NOT_FOUND")(view)
        view = blp.alt_response(409, schema=MergeErrorSchema, description=(
            "`merge_refused` / `undo_refused` (`problems` says why) or `stale_version`"))(view)
        return blp.response(200, schema)(view)

    return decorator


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _problems(error: InvalidInput) -> list[str]:
    return [str(message) for messages in error.errors.values() for message in messages]


def _records(kind: str, data: dict):
    return (GETTERS[kind](data["survivor_id"], current_user),
            GETTERS[kind](data["merged_id"], current_user))


def _preview(kind: str, data: dict) -> dict:
    survivor, merged = _records(kind, data)
    picks = service.picks_from(kind, survivor, merged, data.get("picks") or {})
    return {
        "fields": [{"name": f.name, "survivor": _value(f.survivor), "merged": _value(f.merged),
                    "pick": picks[f.name]} for f in service.compare(kind, survivor, merged)],
        "moves": [{"handler": key, "lines": lines}
                  for key, lines in service.preview(kind, survivor, merged)],
        "problems": service.problems(kind, survivor, merged),
        "survivor_version": survivor.version, "merged_version": merged.version}


def _shown(log: MergeLog) -> dict:
    return {"id": log.id, "kind": log.kind, "survivor_id": log.survivor_id,
            "merged_id": log.merged_id, "at": log.at, "undone_at": log.undone_at,
            "undo_until": service.undo_deadline(log)}


def _merge(kind: str, data: dict) -> dict:
    survivor, merged = _records(kind, data)
    try:
        log = service.merge(kind, survivor, merged, data.get("picks") or {}, current_user,
                            versions=(data.get("survivor_version"),
                                      data.get("merged_version")))
    except InvalidInput as error:
        conflict(MERGE_REFUSED, "These records cannot be merged.",
                 problems=_problems(error))
    except Conflict as error:
        conflict(STALE_VERSION, "One of the records changed since you read it: compare "
                 "them again.", current_version=error.current_version)
    return _shown(log)


# --- views ---------------------------------------------------------------------------------


@blp.route("/accounts/merge/preview", methods=["POST"])
@requires(blp, MANAGE, WRITE)
@blp.arguments(MergeRequestSchema)
@_answers(PreviewSchema)
def preview_account_merge(data):
    """Preview merging two accounts

    Both accounts' fields side by side with the value that would stay, what each module
    would move, and why the merge would be refused (if it would). Changes nothing.
    """
    return _preview(KIND_ACCOUNT, data)


@blp.route("/accounts/merge", methods=["POST"])
@requires(blp, MANAGE, WRITE)
@blp.arguments(MergeRequestSchema)
@_answers(MergeSchema)
def merge_accounts(data):
    """Merge two accounts

    In one transaction: the survivor takes the picked values, every module's records of
    the merged account move to it, the merged account is archived with `merged_into_id`.
    409 `merge_refused` (with `problems`) changes nothing.
    """
    return _merge(KIND_ACCOUNT, data)


@blp.route("/contacts/merge/preview", methods=["POST"])
@requires(blp, MANAGE, WRITE)
@blp.arguments(MergeRequestSchema)
@_answers(PreviewSchema)
def preview_contact_merge(data):
    """Preview merging two contacts

    As for accounts: fields, what moves (links to accounts, actions, opportunities,
    quotes), problems. Changes nothing.
    """
    return _preview(KIND_CONTACT, data)


@blp.route("/contacts/merge", methods=["POST"])
@requires(blp, MANAGE, WRITE)
@blp.arguments(MergeRequestSchema)
@_answers(MergeSchema)
def merge_contacts(data):
    """Merge two contacts

    As for accounts; a contact linked to the same account as the survivor keeps one link.
    """
    return _merge(KIND_CONTACT, data)


@blp.route("/merges/undo", methods=["POST"])
@requires(blp, MANAGE, WRITE)
@blp.arguments(UndoRequestSchema)
@_answers(MergeSchema)
def undo_merge(data):
    """Undo a merge

    `merge_id`: the `id` the merge answered. Within 30 days: both records as they were
    before the merge, every moved record back. 404 unless both records are within your
    scope; 409 `undo_refused` when too late or already undone.
    """
    merge_id = data["merge_id"]
    log = db.session.get(MergeLog, merge_id)
    if log is None:
        raise NotFound()
    for record_id in (log.survivor_id, log.merged_id):
        GETTERS[log.kind](record_id, current_user)
    try:
        service.undo(log, current_user)
    except InvalidInput as error:
        conflict(UNDO_REFUSED, "This merge cannot be undone.",
                 problems=_problems(error))
    return _shown(db.session.get(MergeLog, merge_id))
