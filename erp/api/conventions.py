"""What every module's API views share (the conventions CRM's API set, for any module):
the permission check and its 403, the documented 404/409/412, a service's refusals as
API errors, and the stale-version check of a write.

A view stays thin: parse (its schemas), :func:`requires` a permission, read the record in
the user's scope (404 else), and write it through the module's service inside
:func:`writing` (:func:`expect_version`, then the call inside :func:`service_errors`),
answer::

    @blp.route("/notes/<int:note_id>", methods=["PATCH"])
    @requires(blp, WRITE)
    @blp.arguments(NoteUpdateSchema)
    @blp.response(200, NoteSchema)
    @writes_record(blp)  # @not_found, @stale_response and @sends_etag together
    def update_note(data, note_id):
        note = get_note_or_404(note_id, current_user)
        with writing(note, data):
            return services.update_note(note, data, user=current_user)

A record the body names (an account to create a document for) is read with
:func:`referenced`: not there or out of scope is a 422 on that field, not a 404.

Service refusals: :class:`~erp.errors.InvalidInput` is a 422 ``validation_error`` with
its messages per field (a form's ``lines-0-quantity`` as ``{"lines": {"0": {"quantity":
[...]}}}``, a message about the whole record under ``__all__``); :class:`~erp.errors.Conflict`
a 409 ``stale_version`` with the ``current_version``. The session is rolled back first:
nothing stays half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import marshmallow as ma
from flask import abort as flask_abort
from flask import jsonify

from ..auth import permission_required
from ..db import db
from ..errors import Conflict, InvalidInput
from .errors import ErrorDetailSchema, abort
from .etags import check_if_match, sends_etag

VALIDATION_ERROR = "validation_error"
STALE_VERSION = "stale_version"

__all__ = ["StaleVersionErrorSchema", "conflict", "equal_filters", "expect_version",
           "expected_version", "field_messages", "invalid", "not_found", "referenced",
           "reads_record", "refuse_invalid", "requires", "service_errors", "stale_response",
           "writes_record", "writing"]


class StaleVersionDetailSchema(ErrorDetailSchema):
    current_version = ma.fields.Integer(metadata={
        "description": "code stale_version: the record's version now; read it again"})


class StaleVersionErrorSchema(ma.Schema):
    """A 409 or 412 ``stale_version``: the record changed since the client read it."""

    error = ma.fields.Nested(StaleVersionDetailSchema, required=True)


def requires(blp, *permissions: str):
    """The web's permission check on an API view (403 without every one of
    ``permissions``), and its documentation."""

    def decorator(view):
        return blp.alt_response(403, "FORBIDDEN")(permission_required(*permissions)(view))

    return decorator


def not_found(blp):
    """Documents the 404 of a view whose record may not exist or be outside your scope."""
    return blp.alt_response(404, "NOT_FOUND")


def stale_response(blp, *, body_version: bool = True, schema=StaleVersionErrorSchema):
    """Documents a write's 412 (``If-Match`` no longer current) and, when the body may carry
    the ``version`` read, its 409; ``schema`` documents their body (a module whose 409s
    carry more members names its own)."""

    def decorator(view):
        view = blp.alt_response(412, schema=schema, description=(
            "`stale_version`: the record changed since the ETag sent as `If-Match`; "
            "`current_version` says which it is now."))(view)
        if body_version:
            view = blp.alt_response(409, schema=schema, description=(
                "`stale_version`: the record changed since the `version` sent."))(view)
        return view

    return decorator


def reads_record(blp):
    """A view answering one record found by id in the user's scope: its 404 documented,
    and the record's ETag sent (:func:`~erp.api.etags.sends_etag`). Place it last, right
    above the function, as the decorators it stands for."""

    def decorator(view):
        return not_found(blp)(sends_etag(view))

    return decorator


def writes_record(blp, *, body_version: bool = True):
    """A view writing one record found by id in the user's scope: its 404 and its stale
    ``If-Match`` (412) documented, and its 409 when the body may carry the ``version``
    read (:func:`stale_response`); the answer's ETag sent. Place it last, right above
    the function."""

    def decorator(view):
        return not_found(blp)(stale_response(blp, body_version=body_version)(sends_etag(view)))

    return decorator


def field_messages(errors: Mapping[str, list], aliases: Mapping[str, str] | None = None) -> dict:
    """A service's messages (lazy strings) as JSON, keyed like marshmallow's own errors:
    the form's ``items-0-quantity`` becomes ``{"items": {"0": {"quantity": [...]}}}``, and a
    message about the whole list beside its items goes under ``_schema``.

    ``aliases`` maps a service's field name to the API's, where they differ (CRM's
    ``{"tags": "tag_ids"}``), as :func:`erp.forms.apply_errors` does for a form."""
    aliases = aliases or {}
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
            whole = out.setdefault(aliases.get(name, name), [])
            if isinstance(whole, dict):
                whole = whole.setdefault("_schema", [])
            whole.extend(texts)
    return out


def equal_filters(model, args: Mapping, *names: str) -> list:
    """WHERE conditions for the list arguments given among ``names``: ``model.<name> ==
    args[name]`` (an argument not given filters nothing)."""
    return [getattr(model, name) == args[name] for name in names if name in args]


def invalid(field: str, message: str):
    """A 422 for one field, from a check the view itself makes (a reference in the body
    to a record the user may not see: input, not the resource, so not a 404)."""
    abort(422, "The request has invalid fields.", code=VALIDATION_ERROR,
          fields={field: [message]})


def conflict(code: str, message: str, **members):
    """Stop the request with a 409 in the API's error shape, plus ``members``."""
    response = jsonify(error={"code": code, "message": message, **members})
    response.status_code = 409
    flask_abort(response)


def _stale(current_version: int):
    conflict(STALE_VERSION, "Someone else changed this record since you read it: read it "
             "again, then send your changes with its current version.",
             current_version=current_version)


def refuse_invalid(error: InvalidInput, aliases: Mapping[str, str] | None = None):
    """The 422 ``validation_error`` of a service's :class:`~erp.errors.InvalidInput`."""
    abort(422, "The request has invalid fields.", code=VALIDATION_ERROR,
          fields=field_messages(error.errors, aliases))


@contextmanager
def service_errors(refuse: Callable[[InvalidInput], None] = refuse_invalid) -> Iterator[None]:
    """Run a service call; its refusals become API errors and nothing stays half-written.

    ``refuse`` answers an :class:`~erp.errors.InvalidInput` (after the rollback): a 422 by
    default; a module whose services also refuse with similar records passes its own."""
    try:
        yield
    except InvalidInput as error:
        db.session.rollback()
        refuse(error)
    except Conflict as error:
        db.session.rollback()
        _stale(error.current_version)


def expected_version(record, data: dict | None = None) -> int | None:
    """The version of ``record`` a write was made from: the body's ``version`` (popped
    from ``data``), else the ``If-Match``'s (one that is no longer the record's ETag is a
    412 ``stale_version`` at once), else None (the write goes ahead as sent). For a
    service that compares it itself (``expected_version=``)."""
    matched = check_if_match(record)
    expected = (data or {}).pop("version", None)
    return matched if expected is None else expected


def expect_version(record, data: dict | None = None) -> None:
    """Refuse a write to ``record`` (a model with a ``version``) made from a stale read:
    an ``If-Match`` that is no longer its ETag is a 412, a body's ``version`` (popped from
    ``data``) that is no longer its version a 409, both ``stale_version``; with neither,
    the write goes ahead as sent."""
    expected = expected_version(record, data)
    if expected is not None and expected != record.version:
        _stale(record.version)


@contextmanager
def writing(record, data: dict | None = None,
            refuse: Callable[[InvalidInput], None] = refuse_invalid) -> Iterator[None]:
    """A view's write to ``record``: refused if made from a stale read
    (:func:`expect_version`, which pops ``data``'s ``version``), then the service call in
    the ``with`` block, its refusals as API errors (:func:`service_errors`)::

        quote = services.get_quote_or_404(quote_id, current_user)
        with writing(quote):
            return services.refuse_quote(quote, user=current_user)
    """
    expect_version(record, data)
    with service_errors(refuse):
        yield


def referenced(statement, field: str, message: str):
    """The record a request body names, read by ``statement`` (which keeps to the user's
    scope); else a 422 with ``message`` on ``field``: a reference in the body is input,
    not the resource, so not a 404."""
    record = db.session.scalar(statement)
    if record is None:
        invalid(field, message)
    return record
