"""What every CRM API view shares: the host's conventions (erp.api.conventions), with the
409 and 412 documented by CRM's own error schema (its 409s may list similar records)."""

from __future__ import annotations

from erp.api.conventions import (  # noqa: F401 (re-exported)
    not_found,
    reads_record,
    requires,
    stale_response,
)

from .errors import ConflictErrorSchema


def conflict_response(blp, description: str):
    """Documents a view's 409s (``duplicate``, ``stale_version``) and their members."""
    return blp.alt_response(409, schema=ConflictErrorSchema, description=description)


def precondition_response(blp):
    """Documents the 412 of a PATCH sent with an If-Match that is no longer current."""
    return stale_response(blp, body_version=False, schema=ConflictErrorSchema)
