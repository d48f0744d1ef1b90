"""Reading a spreadsheet file as rows of cells, one row at a time.

CSV comes from many programs: Excel in Brazil saves ``;``-separated Windows-1252, Google
Sheets and LibreOffice ``,``-separated UTF-8, Excel's "Unicode text" tab-separated UTF-16.
So the encoding is decided from the bytes (a BOM; else the whole file is run through an
incremental UTF-8 decoder, and any invalid sequence means Windows-1252, which also reads
Latin-1 text) and the delimiter from the first lines (the candidate that splits them into
the same number of columns, more than one). XLSX is read with openpyxl in read-only mode,
which streams the sheet instead of loading it.

Every reader is a generator: memory stays the same for 10 rows or 100,000.

**Limits** (:class:`Limits`, from ``IMPORT_MAX_*`` in the app's config): a hostile file
must not tie the server up. They are checked as the rows stream, so every caller (upload,
mapping page, preview, the run, API, command line) meets the same :class:`UnreadableFile`:

* at most ``IMPORT_MAX_ROWS`` data rows (and as many blank ones: a sheet that jumps from
  row 1 to row 2,000,001 would otherwise stream two million empty rows);
* at most ``IMPORT_MAX_COLUMNS`` cells in any row, the header included, so a 10,000-column
  file is refused at upload and never reaches the mapping page;
* an XLSX is refused *before* openpyxl opens it when its zip directory says it unpacks to
  more than ``IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES``, or to more than
  ``IMPORT_MAX_XLSX_RATIO`` times its own size (a zip bomb; real sheets compress 5-15
  times). Python's zipfile never unpacks a member beyond its declared size (it fails
  instead), so the declared sizes can be trusted. Then the sheet's ``<dimension>``, when
  present, is checked before the first row is read.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from flask_babel import format_number
from flask_babel import lazy_gettext as _l

from .sheet import scan

FORMAT_CSV, FORMAT_XLSX = "csv", "xlsx"
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = {";": _l("Semicolon (;)"), ",": _l("Comma (,)"), "\t": _l("Tab"),
              "|": _l("Vertical bar (|)")}
ENCODINGS = {"utf-8": _l("UTF-8"), "utf-8-sig": _l("UTF-8 with BOM"),
             "cp1252": _l("Windows-1252 / Latin-1"), "utf-16": _l("UTF-16 (Excel Unicode text)")}
CHUNK = 64 * 1024
SNIFF_LINES = 50
NOT_XLSX = _l("This file is not a valid .xlsx spreadsheet.")
# The compression ratio is only judged on files that unpack to more than this: a tiny
# sheet of repeated cells may well compress 100 times, and costs nothing to read.
RATIO_FLOOR_BYTES = 10 * 1024 * 1024


class UnreadableFile(ValueError):
    """The file is not a spreadsheet we can read; ``message`` says why, for the user."""

    def __init__(self, message: Any):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Limits:
    """What a file may hold; None: no limit. The defaults are the config's (erp/config.py)."""

    max_rows: int | None = 200_000  # data rows, the header and blank rows not counted
    max_columns: int | None = 200  # cells in any row
    max_xlsx_bytes: int | None = 200 * 1024 * 1024  # an XLSX's members, unpacked
    max_xlsx_ratio: float | None = 100  # unpacked size / file size

    @classmethod
    def from_config(cls, config: Mapping) -> Limits:
        def value(key: str, default):
            given = config.get(key, default)
            return given if given is not None and given > 0 else None

        return cls(max_rows=value("IMPORT_MAX_ROWS", cls.max_rows),
                   max_columns=value("IMPORT_MAX_COLUMNS", cls.max_columns),
                   max_xlsx_bytes=value("IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES",
                                        cls.max_xlsx_bytes),
                   max_xlsx_ratio=value("IMPORT_MAX_XLSX_RATIO", cls.max_xlsx_ratio))


def current_limits() -> Limits:
    """The app's limits (its config), or the defaults outside an app context."""
    return Limits.from_config(current_app.config) if has_app_context() else Limits()


def _number(value: int) -> str:
    """1,000 in English, 1.000 in Portuguese (the user's locale, when there is one)."""
    return format_number(value) if has_app_context() else f"{value:,}"


def _size(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


def _too_many_rows(limit: int) -> UnreadableFile:
    return UnreadableFile(_l("The file has more than %(limit)s rows: split it into smaller "
                             "files.", limit=_number(limit)))


def _too_many_columns(row: int, columns: int, limit: int) -> UnreadableFile:
    return UnreadableFile(_l("Row %(row)s has %(columns)s columns; at most %(limit)s can be "
                             "imported: delete the columns you do not need.",
                             row=_number(row), columns=_number(columns), limit=_number(limit)))


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
        raise UnreadableFile(NOT_XLSX)
    if suffix in CSV_SUFFIXES or not suffix:
        if (b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
                and _utf16_order(head) is None):
            raise UnreadableFile(_l("This file is not text: upload a CSV or an .xlsx file."))
        return FORMAT_CSV
    raise UnreadableFile(_l("Unknown file type %(suffix)s: upload a CSV or an .xlsx file.",
                            suffix=suffix))


def _utf16_order(head: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" for text without a BOM whose bytes look like UTF-16 (a
    zero in every other byte, as Latin text has), else None."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even = sum(1 for i in range(0, 2 * pairs, 2) if head[i] == 0)
    odd = sum(1 for i in range(1, 2 * pairs, 2) if head[i] == 0)
    if odd >= 0.7 * pairs and even == 0:
        return "utf-16-le"
    if even >= 0.7 * pairs and odd == 0:
        return "utf-16-be"
    return None


def detect_encoding(path: Path) -> str:
    """"utf-8-sig" or "utf-16" (by BOM, or by the zeros of UTF-16 text without one),
    "utf-8" if every byte decodes, else "cp1252"."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        if _utf16_order(handle.read(CHUNK)):
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


def _not_encoded(encoding: str) -> UnreadableFile:
    return UnreadableFile(_l("The file is not %(encoding)s text: choose another encoding.",
                             encoding=encoding))


def _open_text(path: Path, encoding: str):
    """The file as text; UnreadableFile for an encoding that cannot be (UTF-16 chosen for
    a file that is not UTF-16: Python's codec refuses a stream without a BOM)."""
    if encoding not in ENCODINGS:
        raise UnreadableFile(_l("Unknown encoding %(name)s.", name=encoding))
    if encoding == "utf-16":
        with open(path, "rb") as handle:
            head = handle.read(CHUNK)
        if not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            # Excel writes a BOM; without one, only text that looks like UTF-16 is read.
            encoding = _utf16_order(head) or ""
            if not encoding:
                raise UnreadableFile(_l("The file is not UTF-16 text (it does not start "
                                        "with a byte order mark): choose another encoding."))
    # Windows-1252 leaves five bytes undefined: never fail on them (Latin-1 files have none
    # in text); a wrong UTF-8 choice must fail loudly instead of garbling accents.
    errors = "replace" if encoding == "cp1252" else "strict"
    return open(path, encoding=encoding, errors=errors, newline="")


def sniff_delimiter(path: Path, encoding: str) -> str:
    """The candidate that splits the first lines into equal numbers of columns (≥ 2)."""
    try:
        with _open_text(path, encoding) as handle:
            lines = [line for _i, line in zip(range(SNIFF_LINES), handle, strict=False)]
    except (UnicodeError, UnreadableFile):  # told when the rows are read
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
        except UnicodeError:  # a bad byte, a truncated UTF-16 pair, a missing BOM...
            raise _not_encoded(encoding) from None
        except csv.Error as error:
            raise UnreadableFile(_l("Row %(row)d cannot be read (%(error)s).",
                                    row=reader.line_num, error=str(error))) from None


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return "" if value is None else value


def _check_archive(path: Path, limits: Limits) -> None:
    """Refuse, from the zip's directory alone, an XLSX that unpacks to too much."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise UnreadableFile(NOT_XLSX) from None
    unpacked = sum(member.file_size for member in members)
    if limits.max_xlsx_bytes and unpacked > limits.max_xlsx_bytes:
        raise UnreadableFile(_l("The spreadsheet unpacks to %(size)s, more than the %(limit)s "
                                "that can be imported: split it into smaller files.",
                                size=_size(unpacked), limit=_size(limits.max_xlsx_bytes)))
    packed = max(1, path.stat().st_size)
    if (limits.max_xlsx_ratio and unpacked > RATIO_FLOOR_BYTES
            and unpacked > limits.max_xlsx_ratio * packed):
        raise UnreadableFile(_l("The spreadsheet unpacks from %(packed)s to %(size)s, far more "
                                "than a real spreadsheet does: it cannot be imported.",
                                packed=_size(packed), size=_size(unpacked)))


def _check_dimension(sheet, limits: Limits) -> None:
    """The sheet's declared size (``<dimension ref="A1:J2000001">``), before any row."""
    rows, columns = sheet.max_row, sheet.max_column
    # Blank rows are allowed up to max_rows too (see numbered_rows), hence the double.
    if limits.max_rows and rows and rows > 2 * limits.max_rows + 1:
        raise UnreadableFile(_l("The spreadsheet has %(rows)s rows; at most %(limit)s can be "
                                "imported at once: split it into smaller files.",
                                rows=_number(rows), limit=_number(limits.max_rows)))
    if limits.max_columns and columns and columns > limits.max_columns:
        raise UnreadableFile(_l("The spreadsheet has %(columns)s columns; at most %(limit)s "
                                "can be imported: delete the columns you do not need.",
                                columns=_number(columns), limit=_number(limits.max_columns)))


# What openpyxl (and the zip and XML layers under it) raise for a damaged or forged file.
_XLSX_ERRORS = (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError,
                AttributeError, SyntaxError, ArithmeticError, EOFError, zlib.error)


def _xlsx_rows(path: Path, limits: Limits) -> Iterator[list]:
    _check_archive(path, limits)  # before openpyxl reads anything (shared strings included)
    import openpyxl  # only when an XLSX file is read
    from openpyxl.utils.exceptions import InvalidFileException

    # A file object, not the path: openpyxl refuses paths without an Excel suffix, and the
    # stored copy has none.
    with open(path, "rb") as handle:
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (InvalidFileException, *_XLSX_ERRORS):
            raise UnreadableFile(NOT_XLSX) from None
        try:
            if not workbook.worksheets:
                raise UnreadableFile(_l("The spreadsheet has no worksheet."))
            sheet = workbook.worksheets[0]
            _check_dimension(sheet, limits)
            try:
                extras = scan(path, sheet._worksheet_path)  # merges, formulas (sheet.py)
            except (*_XLSX_ERRORS, RuntimeError):
                raise UnreadableFile(NOT_XLSX) from None
            # Then read what the sheet holds, not what it declares: a wrong dimension would
            # otherwise cut rows off, or pad every row; the limits bound the reading.
            sheet.reset_dimensions()
            yield from extras.rows(_sheet_rows(sheet))
        finally:
            workbook.close()


def _sheet_rows(sheet) -> Iterator[list]:
    rows = sheet.iter_rows(values_only=True)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except _XLSX_ERRORS:  # damaged XML, a bad number or date...
            raise UnreadableFile(NOT_XLSX) from None
        yield [_xlsx_cell(value) for value in row]


def numbered_rows(path: Path, file_format: str, encoding: str | None = None,
                  delimiter: str | None = None, *, header_row: int | None = None,
                  limits: Limits | None = None) -> Iterator[tuple[int, list]]:
    """(row number as the spreadsheet shows it, cells) for every non-blank row.

    The first one is the header: the first non-blank row from ``header_row`` (the
    spreadsheet's number; the rows above it, a title or notes, are skipped). Encoding
    and delimiter are detected when not given.
    ``limits`` (default: the app's config) are checked as the rows come: UnreadableFile.
    """
    limits = limits or current_limits()
    if not Path(path).is_file():
        raise UnreadableFile(_l("The uploaded file is no longer kept: upload it again."))
    if file_format == FORMAT_XLSX:
        rows = _xlsx_rows(path, limits)
    else:
        encoding = encoding or detect_encoding(path)
        rows = _csv_rows(path, encoding, delimiter or sniff_delimiter(path, encoding))
    max_rows, max_columns = limits.max_rows, limits.max_columns
    data = blank = 0
    header = True
    first = header_row or 1
    try:
        for number, cells in enumerate(rows, start=1):
            if number < first:
                if max_rows and number > max_rows + SNIFF_LINES:
                    raise _too_many_rows(max_rows)
                continue
            if max_columns and len(cells) > max_columns:
                raise _too_many_columns(number, len(cells), max_columns)
            if _is_blank(cells):
                blank += 1
                if max_rows and blank > max_rows:
                    raise UnreadableFile(_l(
                        "The file has more than %(limit)s blank rows: delete them, or split "
                        "the file.", limit=_number(max_rows)))
                continue
            if header:
                header = False
            else:
                data += 1
                if max_rows and data > max_rows:
                    raise _too_many_rows(max_rows)
            yield number, cells
    finally:
        rows.close()


def normalize_header(text: Any) -> str:
    """"Razão Social" -> "razao social"; "E-mail" -> "e mail"; "CNPJ/CPF" -> "cnpj cpf"."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


def job_rows(path: Path, file_format: str, options: Mapping | None,
             **kwargs) -> Iterator[tuple[int, list]]:
    """:func:`numbered_rows` with a job's reading options (encoding, delimiter, header row)."""
    options = options or {}
    return numbered_rows(path, file_format, options.get("encoding"), options.get("delimiter"),
                         header_row=options.get("header_row"), **kwargs)
