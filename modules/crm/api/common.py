"""What every CRM API view shares: the blueprint class, permissions (documented), path
ids, the 404 and 409 documentation."""

from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser

from erp.api.fields import MAX_ID
from erp.auth import permission_required

from .errors import ConflictErrorSchema

# A path id: digits, at most the largest id a table can hold (larger ones: 404).
ID = f"int(max={MAX_ID})"


class _Parser(FlaskParser):
    """Unknown query arguments are refused (422) like unknown body fields: a misspelt
    filter must not quietly list everything."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": None, "querystring": None}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser()


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
