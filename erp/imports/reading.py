"""Reading a spreadsheet file as rows of cells, one row at a time.

CSV comes from many programs: Excel in Brazil saves ``;``-separated Windows-1252, Google
Sheets and LibreOffice ``,``-separated UTF-8, Excel's "Unicode text" tab-separated UTF-16.
So the encoding is decided from the bytes (a BOM; else the whole file is run through an
incremental UTF-8 decoder, and any invalid sequence means Windows-1252, which also reads
Latin-1 text) and the delimiter from the first lines (the candidate that splits them into
the same number of columns, more than one). XLSX is read with openpyxl in read-only mode,
which streams the sheet instead of loading it.

Every reader is a generator: memory stays the same for 10 rows or 100,000.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l

FORMAT_CSV, FORMAT_XLSX = "csv", "xlsx"
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = {";": _l("Semicolon (;)"), ",": _l("Comma (,)"), "\t": _l("Tab"),
              "|": _l("Vertical bar (|)")}
ENCODINGS = {"utf-8": _l("UTF-8"), "utf-8-sig": _l("UTF-8 with BOM"),
             "cp1252": _l("Windows-1252 / Latin-1"), "utf-16": _l("UTF-16 (Excel Unicode text)")}
CHUNK = 64 * 1024
SNIFF_LINES = 50


class UnreadableFile(ValueError):
    """The file is not a spreadsheet we can read; ``message`` says why, for the user."""

    def __init__(self, message: Any):
        super().__init__(message)
        self.message = message


def detect_format(path: Path, file_name: str) -> str:
    """"csv" or "xlsx", from the name and the first bytes; UnreadableFile otherwise."""
    suffix = Path(file_name).suffix.lower()
    with open(path, "rb") as handle:
        head = handle.read(CHUNK)
    if head.startswith(b"PK\x03\x04") and suffix not in CSV_SUFFIXES:
        return FORMAT_XLSX
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(_l("This is an old Excel file (.xls): save it as .xlsx or CSV "
                                "and upload it again."))
    if suffix in XLSX_SUFFIXES:
        raise UnreadableFile(_l("This file is not a valid .xlsx spreadsheet."))
    if suffix in CSV_SUFFIXES or not suffix:
        if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise UnreadableFile(_l("This file is not text: upload a CSV or an .xlsx file."))
        return FORMAT_CSV
    raise UnreadableFile(_l("Unknown file type %(suffix)s: upload a CSV or an .xlsx file.",
                            suffix=suffix))


def detect_encoding(path: Path) -> str:
    """"utf-8-sig" or "utf-16" (by BOM), "utf-8" if every byte decodes, else "cp1252"."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _open_text(path: Path, encoding: str):
    # Windows-1252 leaves five bytes undefined: never fail on them (Latin-1 files have none
    # in text); a wrong UTF-8 choice must fail loudly instead of garbling accents.
    errors = "replace" if encoding == "cp1252" else "strict"
    return open(path, encoding=encoding, errors=errors, newline="")


def sniff_delimiter(path: Path, encoding: str) -> str:
    """The candidate that splits the first lines into equal numbers of columns (≥ 2)."""
    try:
        with _open_text(path, encoding) as handle:
            lines = [line for _i, line in zip(range(SNIFF_LINES), handle, strict=False)]
    except UnicodeDecodeError:
        return ";"
    sample = "".join(lines)
    best, best_score = ";", (0.0, 0)
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter)
                  if any(cell.strip() for cell in row)]
        if not widths or widths[0] < 2:
            continue
        score = (sum(1 for w in widths if w == widths[0]) / len(widths), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _is_blank(cells: list) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[list]:
    with _open_text(path, encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            for row in reader:
                yield [cell.strip() for cell in row]
        except UnicodeDecodeError:
            raise UnreadableFile(_l("The file is not %(encoding)s text: choose another "
                                    "encoding.", encoding=encoding)) from None
        except csv.Error as error:
            raise UnreadableFile(_l("Row %(row)d cannot be read (%(error)s).",
                                    row=reader.line_num, error=str(error))) from None


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return "" if value is None else value


def _xlsx_rows(path: Path) -> Iterator[list]:
    import openpyxl  # only when an XLSX file is read
    from openpyxl.utils.exceptions import InvalidFileException

    # A file object, not the path: openpyxl refuses paths without an Excel suffix, and the
    # stored copy has none.
    with open(path, "rb") as handle:
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
            raise UnreadableFile(_l("This file is not a valid .xlsx spreadsheet.")) from None
        try:
            if not workbook.worksheets:
                return
            for row in workbook.worksheets[0].iter_rows(values_only=True):
                yield [_xlsx_cell(value) for value in row]
        finally:
            workbook.close()


def numbered_rows(path: Path, file_format: str, encoding: str | None = None,
                  delimiter: str | None = None) -> Iterator[tuple[int, list]]:
    """(row number as the spreadsheet shows it, cells) for every non-blank row.

    The first one is the header. Encoding and delimiter are detected when not given.
    """
    if file_format == FORMAT_XLSX:
        rows = _xlsx_rows(path)
    else:
        encoding = encoding or detect_encoding(path)
        rows = _csv_rows(path, encoding, delimiter or sniff_delimiter(path, encoding))
    for number, cells in enumerate(rows, start=1):
        if not _is_blank(cells):
            yield number, cells


def normalize_header(text: Any) -> str:
    """"Razão Social" -> "razao social"; "E-mail" -> "e mail"; "CNPJ/CPF" -> "cnpj cpf"."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())
