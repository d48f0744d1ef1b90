"""What openpyxl's streaming (read-only) mode does not tell about a worksheet (issue 19):

* **merged cells**: a value typed once over a range (a title across the first row, a city
  merged over the rows of its customers) is stored in the range's first cell only; the
  others read blank. The ranges are listed after the rows (``<mergeCells>``), so the
  sheet's XML is read once, streamed, before its rows are, and :class:`SheetExtras`
  carries the first cell's value to every cell of the range.
* **formulas without a computed value**: a file written by a program that does not
  compute formulas (a script, some exports) stores ``<c r="C7"><f>B7*2</f></c>`` with no
  ``<v>``; read with ``data_only`` it is blank, and the row would be refused for a
  "missing" value the user can see on screen. Such cells read as
  :class:`FormulaWithoutValue`, and the row is refused saying so.

The scan decompresses the member in chunks and looks for ``<f`` and ``<mergeCell`` only,
so a sheet without formulas or merges costs one pass of zlib (memory stays bounded).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field

CHUNK = 1024 * 1024
_FORMULA = re.compile(rb"<f[\s>/]")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_VALUE = re.compile(rb"<(?:v>[^<]|is[\s>])")
_CELL_CLOSE = re.compile(rb"</c>")
_MERGE = re.compile(rb'<mergeCell\s[^>]*ref="([A-Z]{1,3})([0-9]{1,7}):([A-Z]{1,3})'
                    rb'([0-9]{1,7})"')
_SHEET_DATA_END = re.compile(rb"</sheetData>")
MAX_MERGED_CELLS = 1_000_000  # carried values kept in memory at most (a hostile file)


class FormulaWithoutValue(str):
    """A formula cell stored without its computed value; the text is the cell ("C7")."""

    __slots__ = ()


def column_index(letters: bytes | str) -> int:
    """"A" -> 1, "AA" -> 27."""
    number = 0
    for char in letters.decode() if isinstance(letters, bytes) else letters:
        number = number * 26 + ord(char) - 64
    return number


def column_letters(index: int) -> str:
    """1 -> "A", 27 -> "AA"."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class SheetExtras:
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2
    formulas: set[tuple[int, int]] = field(default_factory=set)  # (row, column), 1-based

    def __bool__(self) -> bool:
        return bool(self.merges or self.formulas)

    def rows(self, rows):
        """``rows`` (lists of cell values, the sheet's rows from row 1) with merged values
        carried and formulas without a value marked."""
        if not self:
            yield from rows
            return
        starts: dict[int, list[tuple[int, int, int, int]]] = {}
        for merge in self.merges:
            starts.setdefault(merge[0], []).append(merge)
        carried: dict[int, list[tuple[int, int, int, object]]] = {}  # row -> (c1, c2, r2, v)
        formula_rows: dict[int, list[int]] = {}
        for row, column in self.formulas:
            formula_rows.setdefault(row, []).append(column)
        for number, cells in enumerate(rows, start=1):
            for r1, c1, r2, c2 in starts.pop(number, ()):
                value = cells[c1 - 1] if c1 - 1 < len(cells) else None
                if value not in (None, ""):
                    for row in range(r1, r2 + 1):
                        carried.setdefault(row, []).append((c1, c2, value))
            spans = carried.pop(number, None)
            marks = formula_rows.pop(number, None)
            if spans or marks:
                cells = list(cells)
                for c1, c2, value in spans or ():
                    if len(cells) < c2:
                        cells.extend([""] * (c2 - len(cells)))
                    for column in range(c1, c2 + 1):
                        if cells[column - 1] in (None, ""):
                            cells[column - 1] = value
                for column in marks or ():
                    if column - 1 < len(cells) and cells[column - 1] in (None, ""):
                        cells[column - 1] = FormulaWithoutValue(
                            f"{column_letters(column)}{number}")
            yield cells


def scan(path, member: str) -> SheetExtras:
    """The merged ranges and formula cells without a value of one sheet of an XLSX."""
    extras = SheetExtras()
    merges: set[tuple[int, int, int, int]] = set()
    covered = 0
    buffer, in_data = b"", True
    with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
        while True:
            chunk = stream.read(CHUNK)
            buffer += chunk
            if in_data:
                end = _SHEET_DATA_END.search(buffer)
                data = buffer[:end.start()] if end else buffer
                keep = _formulas(data, extras, final=bool(end) or not chunk)
                if end:
                    buffer, in_data = buffer[end.end():], False
                else:
                    buffer = data[keep:]
            if not in_data:  # what follows the rows: the merge list among others
                for match in _MERGE.finditer(buffer):
                    r1, c1 = int(match[2]), column_index(match[1])
                    r2, c2 = int(match[4]), column_index(match[3])
                    if (r1, c1) != (r2, c2) and r2 >= r1 and c2 >= c1 and (
                            r1, c1, r2, c2) not in merges:
                        covered += (r2 - r1 + 1) * (c2 - c1 + 1)
                        if covered <= MAX_MERGED_CELLS:
                            merges.add((r1, c1, r2, c2))
                last = buffer.rfind(b"<")
                buffer = buffer[last:] if last >= 0 else b""
            if not chunk:
                break
    extras.merges = sorted(merges)
    return extras


def _formulas(data: bytes, extras: SheetExtras, *, final: bool) -> int:
    """Record the formula cells without a value in ``data``; returns where to resume:
    the start of its last cell, which may go on in the next chunk (``final``: the end)."""
    keep = len(data)
    if not final:
        cut = data.rfind(b"<c ")
        keep = cut if cut >= 0 else max(0, len(data) - 64)
    position = 0
    while (found := _FORMULA.search(data, position, keep)) is not None:
        start = data.rfind(b"<c ", 0, found.start())
        close = _CELL_CLOSE.search(data, found.end())
        end = close.end() if close else len(data)
        position = max(end, found.end())
        if start < 0:
            continue
        cell = data[start:end]
        ref = _CELL_REF.search(cell)
        if ref and not _VALUE.search(cell):
            extras.formulas.add((int(ref[2]), column_index(ref[1])))
    return keep
