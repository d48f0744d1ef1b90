"""The CRM services' refusals as API errors: the host's (erp.api.conventions), plus the
duplicates CRM's services refuse with and its ``tags`` field named ``tag_ids``.

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

import marshmallow as ma

from erp.api.conventions import (  # noqa: F401 (some only re-exported, for the views)
    STALE_VERSION,
    conflict,
    field_messages,
    invalid,
    refuse_invalid,
)
from erp.api.conventions import service_errors as host_service_errors
from erp.api.errors import ErrorDetailSchema
from erp.errors import Duplicate, InvalidInput

from .schemas import DuplicateSchema

DUPLICATE = "duplicate"
# A service names the account's tags ``tags``; the API's field is ``tag_ids``.
ALIASES = {"tags": "tag_ids"}


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
            members["fields"] = field_messages(error.errors, ALIASES)
        conflict(DUPLICATE, message, **members)
    refuse_invalid(error, ALIASES)


def service_errors():
    """Run a service call; its refusals become API errors (:func:`refuse`) and nothing
    stays half-written."""
    return host_service_errors(refuse)
