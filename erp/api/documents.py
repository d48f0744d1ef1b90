"""The API side of :mod:`erp.documents`: the fields of a document line
(:class:`~erp.documents.DocumentLineMixin`) in a body, the same in every module that
sells with lines (sales' quote and order lines, service's order items)."""

from __future__ import annotations

from ..documents import DESCRIPTION_LENGTH
from .fields import DecimalString, Text, describe
from .fields import StrictSchema as Schema

__all__ = ["line_fields", "line_schema"]


def line_fields() -> dict:
    """A document line's fields (new instances: a schema owns its fields): what was sold,
    how many, at what price and discount, and its total (answered, never sent)."""
    return {
        "description": Text(DESCRIPTION_LENGTH, allow_none=True),
        "quantity": DecimalString(3, allow_none=True, metadata=describe("Default 1")),
        "unit_price": DecimalString(allow_none=True),
        "discount": DecimalString(allow_none=True, metadata=describe("Percent, default 0")),
        "total": DecimalString(dump_only=True),
    }


def line_schema(name: str, **fields) -> type[Schema]:
    """The schema, named ``name`` in the OpenAPI document, of a module's document line:
    ``fields`` (a product, say) before the line's own (:func:`line_fields`)."""
    return Schema.from_dict({**fields, **line_fields()}, name=name)
