"""ETags from a record's version, and ``If-Match``: HTTP's own way to refuse a stale write.

A record that keeps a ``version`` (SQLAlchemy's ``version_id_col``: it grows by one at
every save) is answered with ``ETag: "<version>"`` by the views decorated with
:func:`sends_etag` (read, create, update). A client that sends the ETag back as
``If-Match`` on a PATCH has the write refused when someone saved the record in
between: 412 ``stale_version``, with the ``current_version``, and nothing changes
(:func:`check_if_match`). ``If-Match: *`` matches any version; a weak ETag (``W/"3"``)
never matches (RFC 9110 compares If-Match strongly). Without If-Match, the body's
``version`` (409 ``stale_version``) still works, and without either the write is applied
as sent.
"""

from __future__ import annotations

from functools import wraps

from flask import abort as flask_abort
from flask import after_this_request, jsonify, request

__all__ = ["check_if_match", "etag", "sends_etag"]


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(record) -> int | None:
    """Stop with a 412 unless the request's If-Match names ``record``'s current version.

    Returns the version to expect when saving (hand it to the service as
    ``expected_version``), or None without an If-Match header."""
    if "If-Match" not in request.headers:
        return None
    current = record.version
    wanted = request.if_match
    if wanted.star_tag or wanted.contains(str(current)):
        return current
    response = jsonify(error={
        "code": "stale_version",
        "message": "The record changed since the version in If-Match: read it again (its "
                   "ETag is the current version), then send your changes.",
        "current_version": current})
    response.status_code = 412
    response.headers["ETag"] = etag(current)
    flask_abort(response)


def sends_etag(view):
    """The view returns a versioned record: answer with its ETag. Place it under the
    flask-smorest decorators (it sees the record before it is serialized)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        record = view(*args, **kwargs)
        if getattr(record, "version", None) is not None:
            @after_this_request
            def add_etag(response):
                if response.status_code < 300:
                    response.headers["ETag"] = etag(record.version)
                return response
        return record

    return wrapper
