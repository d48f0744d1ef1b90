"""Field types for API schemas (every module's): strict JSON types, documented as such.

JSON clients get told off for a string where a number goes (and the other way round),
instead of having it silently converted; text that no database could store (NUL
characters, lone surrogates) or that hides things (other control characters) is refused
here, before it reaches a service: the rule of the web forms too (erp.textrules).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import marshmallow as ma

from ..db import MAX_ID
from ..textrules import API_TEXT_PATTERN, storable

# Any text except NUL and the other control characters but tab and line breaks.
TEXT_PATTERN = API_TEXT_PATTERN


class Text(ma.fields.String):
    """A string without control characters (tab and line breaks allowed) or unpaired
    surrogates, at most ``max_length`` long."""

    default_error_messages = {"unstorable": "Text may not contain NUL or other control "
                                            "characters (tab and line breaks are fine), "
                                            "nor unpaired surrogates."}

    def __init__(self, max_length: int | None = None, **kwargs):
        validate = kwargs.pop("validate", None) or []
        validate = list(validate) if isinstance(validate, list | tuple) else [validate]
        if max_length is not None:
            validate.append(ma.validate.Length(max=max_length))
        metadata = {"pattern": TEXT_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(validate=validate, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not storable(text):
            raise self.make_error("unstorable")
        return text


class Id(ma.fields.Integer):
    """A record id: a JSON integer (not a string), 1 to 2³¹−1."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", ma.validate.Range(min=1, max=MAX_ID))
        super().__init__(strict=True, **kwargs)


class QueryId(ma.fields.Integer):
    """A record id in the query string (where everything is text)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", ma.validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


class Bool(ma.fields.Boolean):
    """A JSON boolean: ``true`` or ``false`` only (not 1, "yes", "on")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class DecimalString(ma.fields.Decimal):
    """Money and quantities: a decimal string with a dot, e.g. ``"1234.50"`` (never a float,
    so no cent is lost), with at most ``decimals`` places (what the column keeps); read
    into a Decimal, written with the stored precision."""

    def __init__(self, decimals: int = 2, **kwargs):
        self.pattern = rf"^-?[0-9]{{1,15}}(\.[0-9]{{1,{decimals}}})?$"
        metadata = {"type": "string", "format": "decimal", "pattern": self.pattern,
                    **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, metadata=metadata, **kwargs)
        self.error_messages["not_decimal"] = (
            f'Send a decimal string such as "1234.50", with at most {decimals} decimal places.')

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if not isinstance(value, str) or not re.fullmatch(self.pattern, value):
            raise self.make_error("not_decimal")
        return super()._deserialize(value, attr, data, **kwargs)


class UtcDateTime(ma.fields.DateTime):
    """An ISO 8601 date and time, written in UTC with its offset.

    (SQLite hands datetimes back without a time zone: they are UTC.)
    """

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if isinstance(value, datetime):
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def enum(values, **kwargs) -> ma.fields.String:
    """A string that is one of ``values`` (an ``enum`` in the OpenAPI document)."""
    return ma.fields.String(validate=ma.validate.OneOf(tuple(values)), **kwargs)


def describe(text: str) -> dict:
    """A field's ``metadata`` with its description for the OpenAPI document."""
    return {"description": text}


class StrictSchema(ma.Schema):
    """A request or response body: a field not declared is refused (422), never ignored."""

    class Meta:
        unknown = ma.RAISE
