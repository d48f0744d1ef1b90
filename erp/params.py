"""Integers from the query string, bounded: the one parser every list and form uses.

A query argument is whatever a visitor typed: ``?page=99999999999999999999`` is a valid
Python int, but not one the database binds (SQLite raises OverflowError, PostgreSQL a
DataError), and ``"²".isdigit()`` is true while ``int("²")`` fails. Rather than a 500,
an argument that is not a plain decimal integer within ``[min, max]`` is treated as
absent: the caller gets its ``default`` (``None`` unless given).

    page = page_arg()                         # 1..MAX_PAGE, else 1
    owner_id = int_arg("owner")               # a record id (1..MAX_ID) or None
    days = int_arg("days", 30, min=1, max=365)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import abort, request
from flask_babel import gettext as _

from .db import MAX_ID

__all__ = ["MAX_PAGE", "id_arg", "init_app", "int_arg", "page_arg", "parse_int"]

# Deeper pages than this are refused (answered with page 1): the OFFSET would be huge and
# nobody pages through 100,000 pages by hand; search or filter instead.
MAX_PAGE = 100_000

# ASCII digits only (str.isdigit also accepts '²' and other digits int() refuses), and
# short: int() of a 100,000-digit string costs time for nothing.
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")


def parse_int(value: Any, default: int | None = None, *, min: int | None = -MAX_ID - 1,  # noqa: A002
              max: int | None = MAX_ID) -> int | None:  # noqa: A002
    """``value`` as an int if it is one (text or int) within ``[min, max]``; else ``default``.

    The default bounds are the database's INTEGER: whatever it returns can be bound."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip() if value is not None else ""
        if not _INTEGER.fullmatch(text):
            return default
        number = int(text)
    if (min is not None and number < min) or (max is not None and number > max):
        return default
    return number


def int_arg(name: str, default: int | None = None, *, min: int | None = 1,  # noqa: A002
            max: int | None = MAX_ID, args: Mapping | None = None) -> int | None:  # noqa: A002
    """The query argument ``name`` (of ``args``, by default the request's) as a bounded int.

    The defaults suit a record id (1..MAX_ID, what an INTEGER primary key holds)."""
    source = request.args if args is None else args
    return parse_int(source.get(name), default, min=min, max=max)


def id_arg(name: str, args: Mapping | None = None) -> int | None:
    """A record id from the query string, or None."""
    return int_arg(name, args=args)


def page_arg(name: str = "page", args: Mapping | None = None) -> int:
    """A page number, 1..MAX_PAGE; 1 for anything else."""
    return int_arg(name, 1, min=1, max=MAX_PAGE, args=args)


def _refuse_nul_in_query() -> None:
    """before_request: a NUL in the query string is a 400 (PostgreSQL refuses text with
    one in a comparison: a search for it was a 500). The API checks its own arguments,
    and says which one is wrong (422)."""
    if request.path.startswith("/api/"):
        return
    if any("\x00" in key or any("\x00" in value for value in values)
           for key, values in request.args.lists()):
        abort(400, description=_("The address holds a character that is not allowed (NUL)."))


def init_app(app) -> None:
    app.before_request(_refuse_nul_in_query)
