"""Checking a batch of rows: mapping, required cells, the importer's rules, duplicates.

Shared by the preview (the first rows, nothing written) and the run (every row).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from .contract import Importer, RowError, RowPlan, cell_text
from .reading import normalize_header


@dataclass
class RowOutcome:
    number: int  # as the spreadsheet shows it (the header is row 1)
    cells: list  # the row as read, every column
    values: dict[str, Any]  # field name -> cell, for the mapped fields
    plan: RowPlan | None = None
    error: str | None = None


def guess_mapping(header: list, importer: Importer) -> dict[str, int]:
    """field name -> column index, from the header's names and each field's aliases.

    Names are compared without case, accents or punctuation; a column serves one field.
    """
    columns = [normalize_header(cell_text(cell)) for cell in header]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for field in importer.fields:
        names = {normalize_header(n) for n in (field.name, str(field.label), *field.aliases)}
        for index, column in enumerate(columns):
            if index not in used and column and column in names:
                mapping[field.name] = index
                used.add(index)
                break
    return mapping


def mapping_errors(importer: Importer, mapping: dict[str, int], width: int) -> list[str]:
    """What is wrong with a mapping: unknown fields, bad columns, a column used twice,
    required fields left out."""
    errors = []
    used: dict[int, str] = {}
    for name, index in mapping.items():
        field = importer.field(name)
        if field is None:
            errors.append(_("Unknown field %(field)s.", field=name))
        elif not isinstance(index, int) or not 0 <= index < width:
            errors.append(_("Choose a column of the file for %(field)s.", field=field.label))
        elif index in used:
            errors.append(_("One column cannot fill both %(a)s and %(b)s.",
                            a=importer.field(used[index]).label, b=field.label))
        else:
            used[index] = name
    for field in importer.fields:
        if field.required and field.name not in mapping:
            errors.append(_("Choose the column for %(field)s: it is required.",
                            field=field.label))
    return errors


def _digest(field: str, value: str) -> int:
    """64 bits per key instead of the text: 100,000 rows' keys take a few megabytes."""
    raw = hashlib.blake2b(f"{field}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(raw, "big")


class SeenKeys:
    """The identifying keys of the rows accepted so far, to report duplicates in the file.

    A batch whose write is tried again is checked again: :meth:`journal` before it,
    :meth:`forget` after a rolled-back attempt takes back the keys the attempt added."""

    def __init__(self) -> None:
        self._rows: dict[int, int] = {}
        self._added: list[int] | None = None

    def journal(self) -> list[int]:
        """From now on, the keys added are also listed in the list returned."""
        self._added = []
        return self._added

    def forget(self, journal: list[int]) -> None:
        for digest in journal:
            self._rows.pop(digest, None)
        journal.clear()

    def first_row(self, keys: Iterable[tuple[str, str]]) -> tuple[str, int] | None:
        for field, value in keys:
            row = self._rows.get(_digest(field, value))
            if row is not None:
                return field, row
        return None

    def add(self, keys: Iterable[tuple[str, str]], row: int) -> None:
        for field, value in keys:
            digest = _digest(field, value)
            if digest not in self._rows:
                self._rows[digest] = row
                if self._added is not None:
                    self._added.append(digest)


def mapped_values(cells: list, mapping: dict[str, int]) -> dict[str, Any]:
    return {name: (cells[index] if index < len(cells) else "") for name, index in mapping.items()}


def check_batch(importer: Importer, batch: list[tuple[int, list]], mapping: dict[str, int],
                user, seen: SeenKeys) -> list[RowOutcome]:
    """Validate a batch (one ``prepare`` call, then each row); nothing is written."""
    outcomes = [RowOutcome(number, cells, mapped_values(cells, mapping))
                for number, cells in batch]
    context = importer.prepare([o.values for o in outcomes], user) if importer.prepare else None
    required = [f for f in importer.fields if f.required and f.name in mapping]
    for outcome in outcomes:
        try:
            for field in required:
                if not cell_text(outcome.values.get(field.name)):
                    raise RowError(_("%(field)s is required.", field=field.label))
            plan = importer.validate(outcome.values, user, context)
            duplicate = seen.first_row(plan.keys)
            if duplicate is not None:
                field = importer.field(duplicate[0])
                if field is None:  # a key that is no column, e.g. the record's id
                    raise RowError(_("Duplicate in the file: the same record as row %(row)d.",
                                     row=duplicate[1]))
                raise RowError(_("Duplicate in the file: same %(field)s as row %(row)d.",
                                 field=field.label, row=duplicate[1]))
            seen.add(plan.keys, outcome.number)
            outcome.plan = plan
        except RowError as error:
            outcome.error = str(error.message)
    return outcomes
