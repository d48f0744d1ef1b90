"""Keyset paging for API lists: ``?limit=50&after=<cursor>`` -> ``{"items", "next_cursor"}``.

Lists are ordered by id and continue after the last id seen, so every page costs
the same however deep it is and rows added meanwhile neither repeat nor vanish.
The cursor is opaque to clients (today: the last id, as text).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import BigInteger, Select, literal

from ..db import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class ListArgs(ma.Schema):
    """Query arguments every list accepts; a resource's filters subclass this."""

    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT,
                              validate=ma.validate.Range(min=1, max=MAX_LIMIT),
                              metadata={"description": f"Items per page (1–{MAX_LIMIT})"})
    after = ma.fields.String(validate=ma.validate.Regexp(r"^\d{1,18}$"),
                             metadata={"description": "The next_cursor of the previous page"})


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The response schema of a list of ``item_schema``, named ``name`` in the OpenAPI document."""
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "next_cursor": ma.fields.String(required=True, allow_none=True),
    })


def cursor_value(after: str):
    """The cursor as a SQL value compared as a BIGINT: a cursor past the largest id an
    INTEGER column holds is then an empty page on PostgreSQL, not an out-of-range error."""
    return literal(int(after), BigInteger)


def keyset_page(statement: Select, id_column: Any, args: dict) -> dict:
    """One page of ``statement`` (already filtered and scoped), ordered by ``id_column``:
    the rows' id, or another unique integer column of theirs (a link's ``contact_id``),
    whose value in the last row is the next cursor."""
    limit = args.get("limit", DEFAULT_LIMIT)
    if args.get("after"):
        statement = statement.where(id_column > cursor_value(args["after"]))
    rows = list(db.session.scalars(statement.order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = str(getattr(rows[-1], id_column.key)) if more and rows else None
    return {"items": rows, "next_cursor": next_cursor}
