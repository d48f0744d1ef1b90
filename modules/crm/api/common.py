"""What every CRM API view shares: permissions (documented), the 404 and 409 documentation."""

from __future__ import annotations

from erp.auth import permission_required

from .errors import ConflictErrorSchema


def requires(blp, permission: str):
    """The web's permission check on an API view (403 without it), and its documentation."""

    def decorator(view):
        return blp.alt_response(403, "FORBIDDEN")(permission_required(permission)(view))

    return decorator


def not_found(blp):
    """Documents the 404 of a view whose record may not exist or be outside your scope."""
    return blp.alt_response(404, "NOT_FOUND")


def conflict_response(blp, description: str):
    """Documents a view's 409s (``duplicate``, ``stale_version``) and their members."""
    return blp.alt_response(409, schema=ConflictErrorSchema, description=description)


def precondition_response(blp):
    """Documents the 412 of a PATCH sent with an If-Match that is no longer current."""
    return blp.alt_response(412, schema=ConflictErrorSchema, description=(
        "`stale_version`: the record changed since the ETag sent as `If-Match`; "
        "`current_version` says which it is now."))
