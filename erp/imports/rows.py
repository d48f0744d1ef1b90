"""Checking a batch of rows: mapping, required cells, the importer's rules, duplicates.

Shared by the preview (the first rows, nothing written) and the run (every row).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from .contract import Importer, ImportField, RowError, RowPlan, cell_text
from .reading import normalize_header
from .sheet import FormulaWithoutValue

HEADER_SCAN_ROWS = 10  # the header is looked for among the first non-blank rows
MAX_DISTINCT_VALUES = 40  # values of an enumerated column shown in the mapping step


@dataclass
class RowOutcome:
    number: int  # as the spreadsheet shows it (the header is row 1)
    cells: list  # the row as read, every column
    values: dict[str, Any]  # field name -> cell, for the mapped fields
    plan: RowPlan | None = None
    error: str | None = None


def _field_names(field: ImportField) -> set[str]:
    return {normalize_header(n) for n in (field.name, str(field.label), *field.aliases)}


def _all_names(importer: Importer) -> set[str]:
    return set().union(*(_field_names(f) for f in importer.fields))


def header_score(cells: list, importer: Importer, names: set[str] | None = None) -> int:
    """How many cells of a row are known header names of the importer's fields."""
    names = _all_names(importer) if names is None else names
    return len({normalize_header(cell_text(c)) for c in cells} & names - {""})


def detect_header(rows: Iterable[tuple[int, list]], importer: Importer) -> int | None:
    """The number of the row among the first ones that best matches the importer's
    header names (the first such row on a tie; the first row when none matches): a
    title, the company's name or a blank line above the header is skipped."""
    best, best_score = None, 0
    names = _all_names(importer)
    for index, (number, cells) in enumerate(rows):
        if index >= HEADER_SCAN_ROWS:
            break
        if best is None:
            best = number
        score = header_score(cells, importer, names)
        if score > best_score:
            best, best_score = number, score
    return best


def guess_mapping(header: list, importer: Importer) -> dict[str, int]:
    """field name -> column index, from the header's names and each field's aliases.

    Names are compared without case, accents or punctuation; a column serves one field.
    """
    columns = [normalize_header(cell_text(cell)) for cell in header]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for field in importer.fields:
        names = _field_names(field)
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


def value_key(value: Any) -> str:
    """How a cell of an enumerated column is looked up in the user's value mapping."""
    return normalize_header(cell_text(value))


class ValueMap:
    """The user's value mapping (issue 19): field -> {cell text, normalized: code}; a
    code "" leaves the cell blank (the value is not imported, the row is not refused).
    Values it does not list reach the importer as they are."""

    def __init__(self, values: dict[str, dict[str, str]] | None):
        self.values = {name: table for name, table in (values or {}).items() if table}
        self._known: dict[tuple[str, Any], Any] = {}

    def apply(self, row: dict[str, Any]) -> None:
        for name, table in self.values.items():
            if name not in row:
                continue
            cell = row[name]
            key = (name, cell)
            mapped = self._known.get(key, self)
            if mapped is self:
                if len(self._known) > 10_000:  # a column of free text: bounded memory
                    self._known.clear()
                code = table.get(value_key(cell))
                mapped = self._known[key] = cell if code is None else code
            row[name] = mapped


def mapped_values(cells: list, mapping: dict[str, int]) -> dict[str, Any]:
    return {name: (cells[index] if index < len(cells) else "") for name, index in mapping.items()}


def _formula_error(values: dict[str, Any]) -> str | None:
    for value in values.values():
        if type(value) is FormulaWithoutValue:
            return _("formula without a computed value in %(cell)s: open and save the file "
                     "in Excel/LibreOffice, then import it again.", cell=str(value))
    return None


def enumerated_fields(importer: Importer, mapping: dict[str, int]) -> list[ImportField]:
    """The mapped fields whose values the user may map (fields with choices)."""
    return [f for f in importer.fields if f.choices is not None and f.name in mapping]


def distinct_values(rows: Iterable[tuple[int, list]], importer: Importer,
                    mapping: dict[str, int], limit: int) -> dict[str, list[tuple[str, int]]]:
    """field -> [(value as text, rows with it)], most frequent first, for each mapped
    enumerated field, from the first ``limit`` data rows; at most MAX_DISTINCT_VALUES."""
    from collections import Counter

    fields = enumerated_fields(importer, mapping)
    counts: dict[str, Counter] = {f.name: Counter() for f in fields}
    if not fields:
        return {}
    for index, (_number, cells) in enumerate(rows):
        if index >= limit:
            break
        for field in fields:
            column = mapping[field.name]
            text = cell_text(cells[column]) if column < len(cells) else ""
            if text:
                counts[field.name][text] += 1
    found = {}
    for name, counter in counts.items():
        merged: dict[str, list] = {}  # "Ativo" and "ATIVO" are one value
        for text, n in counter.most_common():
            entry = merged.setdefault(value_key(text), [text, 0])
            entry[1] += n
        found[name] = sorted(((t, n) for t, n in merged.values()),
                             key=lambda item: -item[1])[:MAX_DISTINCT_VALUES]
    return found


def guessed_values(importer: Importer, found: dict[str, list[tuple[str, int]]],
                   given: dict[str, dict[str, str]] | None = None) -> dict[str, dict[str, str]]:
    """The value mapping: ``given`` (the user's) over each field's guesses for the values
    found; values nobody can guess are left out (the importer says what is wrong)."""
    values: dict[str, dict[str, str]] = {}
    for name, entries in found.items():
        field = importer.field(name)
        table = {}
        for text, _count in entries:
            code = field.guess(text) if field and field.guess else None
            if code is not None:
                table[value_key(text)] = code
        values[name] = table
    for name, table in (given or {}).items():
        if importer.field(name) is not None:
            values.setdefault(name, {}).update(
                {value_key(text): str(code or "") for text, code in table.items()})
    return {name: table for name, table in values.items() if table}


def check_batch(importer: Importer, batch: list[tuple[int, list]], mapping: dict[str, int],
                user, seen: SeenKeys, values: ValueMap | None = None) -> list[RowOutcome]:
    """Validate a batch (one ``prepare`` call, then each row); nothing is written."""
    outcomes = [RowOutcome(number, cells, mapped_values(cells, mapping))
                for number, cells in batch]
    if values is not None and values.values:
        for outcome in outcomes:
            values.apply(outcome.values)
    context = importer.prepare([o.values for o in outcomes], user) if importer.prepare else None
    required = [f for f in importer.fields if f.required and f.name in mapping]
    for outcome in outcomes:
        try:
            formula = _formula_error(outcome.values)
            if formula is not None:
                raise RowError(formula)
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
