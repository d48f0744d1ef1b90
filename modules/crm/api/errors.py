"""The CRM services' refusals as API errors: the one place that maps them.

- :class:`InvalidInput` with messages: 422 ``validation_error``, ``fields`` per field;
- :class:`InvalidInput` with similar records: 409 ``duplicate``, listing them. When none
  blocks (``confirmable``), the same request with ``"confirm_duplicates": true`` saves,
  like ticking the box on the form; the same tax id always blocks;
- :class:`Conflict` (someone saved the record since the client read it): 409
  ``stale_version``, with the ``current_version``.

Every error keeps the host's shape ``{"error": {"code", "message", "fields"?}}``; the
409s add their own members, documented by :class:`ConflictErrorSchema`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import marshmallow as ma
from flask import abort as flask_abort
from flask import jsonify

from erp.api.errors import ErrorDetailSchema, abort
from erp.db import db
from erp.errors import Conflict, Duplicate, InvalidInput

from .schemas import DuplicateSchema

VALIDATION_ERROR = "validation_error"
DUPLICATE = "duplicate"
STALE_VERSION = "stale_version"


class ConflictDetailSchema(ErrorDetailSchema):
    duplicates = ma.fields.List(ma.fields.Nested(DuplicateSchema), metadata={
        "description": "code duplicate: the similar records"})
    confirmable = ma.fields.Boolean(metadata={
        "description": "code duplicate: true if sending confirm_duplicates saves anyway"})
    current_version = ma.fields.Integer(metadata={
        "description": "code stale_version: the record's version now; read it again"})


class ConflictErrorSchema(ma.Schema):
    """A 409: ``duplicate`` (similar records exist) or ``stale_version``."""

    error = ma.fields.Nested(ConflictDetailSchema, required=True)


def field_messages(errors: Mapping[str, list]) -> dict:
    """A service's messages (lazy strings) as JSON, keyed like marshmallow's own errors:
    the form's ``items-0-quantity`` becomes ``{"items": {"0": {"quantity": [...]}}}``, and a
    message about the whole list beside its items goes under ``_schema``, as marshmallow's."""
    out: dict = {}
    for name, messages in errors.items():
        texts = [str(message) for message in messages]
        parent, _sep, rest = name.partition("-")
        index, _sep, child = rest.partition("-")
        if index.isdigit() and child:
            items = out.setdefault(parent, {})
            if isinstance(items, list):
                items = out[parent] = {"_schema": items}
            items.setdefault(index, {}).setdefault(child, []).extend(texts)
        else:
            whole = out.setdefault("tag_ids" if name == "tags" else name, [])
            if isinstance(whole, dict):
                whole = whole.setdefault("_schema", [])
            whole.extend(texts)
    return out


def conflict(code: str, message: str, **members):
    """Stop the request with a 409 in the host's error shape, plus ``members``."""
    response = jsonify(error={"code": code, "message": message, **members})
    response.status_code = 409
    flask_abort(response)


def _duplicate(duplicate: Duplicate) -> dict:
    """A similar record; one outside the caller's scope without its id, name or owner."""
    record = duplicate.record
    if not duplicate.visible:
        return {"id": None, "name": None, "reason": duplicate.reason,
                "blocking": duplicate.blocking, "owner": None, "in_scope": False}
    name = getattr(record, "display_name", None) or record.name  # an account; a contact
    return {"id": record.id, "name": name, "reason": duplicate.reason,
            "blocking": duplicate.blocking, "owner": record.owner.name, "in_scope": True}


def _duplicate_message(error: InvalidInput) -> str:
    if not hasattr(error.duplicates[0].record, "tax_id"):  # contacts: never blocking
        return ("Contacts with the same e-mail or phone exist: send the request again with "
                "\"confirm_duplicates\": true to save anyway.")
    if error.needs_confirmation:
        return ("Similar accounts exist: send the request again with "
                "\"confirm_duplicates\": true to save anyway.")
    if any(d.blocking and d.visible for d in error.duplicates):
        return "An account with this tax id exists already."
    return "An account with this CNPJ/CPF already exists in another portfolio; ask a manager."


def refuse(error: InvalidInput):
    """The API error for a service's InvalidInput (after the session is rolled back)."""
    if error.duplicates:
        message = _duplicate_message(error)
        members = {"duplicates": [_duplicate(d) for d in error.duplicates],
                   "confirmable": error.needs_confirmation}
        if error.errors:
            members["fields"] = field_messages(error.errors)
        conflict(DUPLICATE, message, **members)
    abort(422, "The request has invalid fields.", code=VALIDATION_ERROR,
          fields=field_messages(error.errors))


@contextmanager
def service_errors() -> Iterator[None]:
    """Run a service call; its refusals become API errors and nothing stays half-written."""
    try:
        yield
    except InvalidInput as error:
        db.session.rollback()
        refuse(error)
    except Conflict as error:
        db.session.rollback()
        conflict(STALE_VERSION, "Someone else changed this record since you read it: read it "
                 "again, then send your changes with its current version.",
                 current_version=error.current_version)


def invalid(field: str, message: str):
    """A 422 for one field, from a check the API itself makes (a reference in the body)."""
    abort(422, "The request has invalid fields.", code=VALIDATION_ERROR,
          fields={field: [message]})
