"""The API's one error shape, and the handler turning every HTTP error into it.

``{"error": {"code": "validation_error", "message": "...", "fields": {"name": ["..."]}}}``:
``code`` is stable (clients branch on it), ``message`` is for people, ``fields`` (only
for input errors) maps each bad field to its messages.
"""

from __future__ import annotations

import marshmallow as ma
from flask import jsonify
from flask_smorest import abort as smorest_abort
from werkzeug.exceptions import HTTPException

# Status -> stable code, for errors raised without one.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "Stable error code"})
    message = ma.fields.String(required=True, metadata={"description": "For people"})
    fields = ma.fields.Dict(
        keys=ma.fields.String(), metadata={"description": "Messages per bad input field"})


class ErrorSchema(ma.Schema):
    """Documents the payload of every error response."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


def abort(status: int, message: str, code: str | None = None, fields: dict | None = None):
    """Stop the request with an API error."""
    smorest_abort(status, message=message, code=code or CODES.get(status, "error"),
                  errors=fields)


def _flatten_webargs(messages: dict) -> dict:
    """webargs nests messages by location ({"json": {...}, "query": {...}}): lift them."""
    fields: dict = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            fields.update(errors)
        else:
            fields[location] = errors
    return fields


def error_response(error: HTTPException):
    data = getattr(error, "data", None) or {}
    code = data.get("code") or CODES.get(error.code or 500, "error")
    message = data.get("message") or error.description or error.name
    fields = data.get("errors")
    if fields is None and "messages" in data:  # from webargs
        if error.code == 422:
            fields = _flatten_webargs(data["messages"])
            code, message = "validation_error", "The request has invalid fields."
        else:  # it could not even parse the body
            code, message = "malformed_body", "The body is not valid JSON."
    body = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    response = jsonify(error=body)
    response.status_code = error.code or 500
    # The exception's own headers too (a 405's Allow, a 429's Retry-After), not its HTML type.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
