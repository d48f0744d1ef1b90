"""What a module contributes to make its records importable from a spreadsheet.

A module registers an :class:`Importer` in its ``register()``::

    registry.add(Importer(key="accounts", label=_l("Accounts"), ...))

and the host does the rest: reading CSV/XLSX, guessing the column mapping, the preview,
duplicates inside the file, batches, the all-or-nothing transaction, progress, the file of
rejected rows, the web pages and the ``flask import`` command.

The host calls the importer's functions batch by batch (``IMPORT_BATCH_SIZE`` rows):

1. ``prepare(rows, user)``, once per batch, with the mapped values of every row in it.
   It fetches what the rows refer to (existing records by tax id, users by e-mail...)
   with a few queries, so the cost of a batch does not grow with a query per row.
   Whatever it returns is handed to ``validate`` as ``context``.
2. ``validate(values, user, context)``, per row, with the same service rules the forms
   use. It returns a :class:`RowPlan` or raises :class:`RowError` with the reason.
   It must not write anything: the preview calls it too.
3. ``write(payloads, user)``, once per batch, with the payloads of the valid rows. It adds
   records to ``db.session``, or hands new ones to :func:`erp.imports.insert_records`
   (a few INSERTs per batch instead of one per row, with the same audit trail and undo),
   and never commits: the host flushes each batch and commits (or rolls back) it.

``values`` maps a field name to the cell of the mapped column: text (stripped), or, from
XLSX, a number, date or datetime as stored; blank cells are ``""`` and unmapped fields are
absent. :func:`cell_text` turns any cell into text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ImportField:
    """A column the importer understands."""

    name: str  # "tax_id": the key in ``values``
    label: Any  # lazily translated, shown in the mapping form
    required: bool = False  # a row with this cell blank is rejected (by the host)
    # Header spellings that map a column to this field, English and Portuguese; compared
    # without case, accents or punctuation ("Razão Social" == "razao social").
    aliases: tuple[str, ...] = ()
    help: Any = ""  # what the cell may hold, e.g. "CNPJ/CPF or name"
    # An enumeration (lifecycle, person type, state, stage, owner...): the mapping step
    # lists the distinct values of the column and lets the user say which choice each
    # one means (issue 19). ``choices()`` -> [(code, label)], called in a request;
    # ``guess(text)`` -> the code a cell's text most likely means, or None. The row then
    # holds the code chosen (``values``), or "" for a value the user leaves out.
    choices: Callable[[], list[tuple[str, Any]]] | None = None
    guess: Callable[[str], str | None] | None = None


@dataclass(frozen=True)
class RowPlan:
    """What ``validate`` decided for a valid row."""

    action: str  # "create" or "update": counted separately in the result
    payload: Any  # handed back to ``write`` as is
    # (field name, normalized value) pairs that identify the record: a later row of the
    # same file with one of them is rejected as a duplicate of this one.
    keys: tuple[tuple[str, str], ...] = ()
    note: Any = ""  # shown in the preview: "updates Acme Ltda", a similar-record warning


class RowError(ValueError):
    """The row cannot be imported; ``message`` says why (shown and put in the rejects file)."""

    def __init__(self, message: Any):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Importer:
    key: str  # "accounts": also the CLI's argument and the URL's ``kind``
    label: Any
    fields: tuple[ImportField, ...]
    validate: Callable  # (values: dict, user, context) -> RowPlan; raises RowError
    write: Callable  # (payloads: list, user) -> None: adds to db.session, never commits
    prepare: Callable | None = None  # (rows: list[dict], user) -> context for validate
    permission: str | None = None  # needed to import (the web, the CLI's --user)
    description: Any = ""
    order: int = 100

    def field(self, name: str) -> ImportField | None:
        return next((f for f in self.fields if f.name == name), None)


def cell_text(value: Any) -> str:
    """A cell as text: '' for blank, '11987654321' for an XLSX number 11987654321.0,
    '2026-12-31' for a date (what ``erp.formats.parse_date`` reads back)."""
    if type(value) is str:  # every CSV cell: read about 40 times a row (issue 15)
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else (
            value.isoformat(sep=" "))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(str(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()
