"""Reports: the Reports page, the table every report shows, and its CSV export.

Modules contribute reports through the registry (``registry.add(Report(...))``); the
host lists those the user may see at ``/reports`` and contributes a "Reports" entry to the
top navigation (:func:`add_reports_entry`), shown to a user who may open at least one.
Each report is the module's own page; what they share is here:

- :class:`ReportTable` — the header and rows a report shows. The HTML table (the
  ``report_table`` macro in ``templates/erp/reports/_macros.html``) and the CSV export
  (:func:`csv_response`) are both rendered from the same object, so the file holds
  exactly the figures on the screen.
- :func:`csv_response` — a streamed CSV download, UTF-8 with a byte-order mark so Excel
  opens accents right; in a language that writes decimals with a comma (pt-BR) the
  columns are separated by ``;`` and numbers use the comma, as a Brazilian Excel expects.
  Written through :mod:`erp.csv_writer`: a cell that would run as a formula is quoted.
- :func:`days_between` — days between two timestamps, in SQL, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import get_decimal_symbol
from flask import Blueprint, Response, current_app, render_template, stream_with_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from . import csv_writer
from .registry import MenuItem, Report

__all__ = ["Column", "ReportTable", "Row", "RowPagination", "add_reports_entry", "bp",
           "csv_response", "days_between", "wants_csv"]

bp = Blueprint("reports", __name__)

# What a cell holds, and so how it is written: on screen and in the CSV.
TEXT, INTEGER, MONEY, PERCENT, DAYS, DATE = "text", "int", "money", "percent", "days", "date"


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # str or lazy string
    kind: str = TEXT

    @property
    def numeric(self) -> bool:
        return self.kind in (INTEGER, MONEY, PERCENT, DAYS)


@dataclass(frozen=True)
class Row:
    """One line of a report's table. ``links`` maps a column key to a URL (a drill-down)."""

    values: Sequence[Any]
    links: dict[str, str] = field(default_factory=dict)
    css_class: str = ""


@dataclass
class ReportTable:
    columns: Sequence[Column]
    rows: Iterable[Row]
    footer: Row | None = None  # totals, shown (and exported) as the last line

    def header(self) -> list[str]:
        return [str(column.label) for column in self.columns]


# --- CSV -------------------------------------------------------------------------------

BOM = "\ufeff"


def wants_csv(args) -> bool:
    return args.get("format") == "csv"


def _csv_cell(value: Any, kind: str, decimal_symbol: str) -> str:
    """A value as a spreadsheet reads it: no currency sign, no thousands separator."""
    if value is None:
        return ""
    if kind in (MONEY, PERCENT, DAYS) or isinstance(value, Decimal | float):
        places = "0.01" if kind == MONEY else "0.1"
        text = str(Decimal(str(value)).quantize(Decimal(places)))
        return text.replace(".", decimal_symbol)
    if kind == INTEGER:
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _safe_filename(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "report"
    return stem if stem.endswith(".csv") else stem + ".csv"


def csv_response(filename: str, table: ReportTable) -> Response:
    """The table as a streamed CSV download (rows are written as they come)."""
    locale = get_locale()
    decimal_symbol = get_decimal_symbol(locale) if locale else "."
    delimiter = ";" if decimal_symbol == "," else ","
    kinds = [column.kind for column in table.columns]

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv_writer.writer(buffer, delimiter=delimiter, lineterminator="\r\n")

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
            return text

        writer.writerow(table.header())
        yield BOM + flush()
        for count, row in enumerate(table.rows, 1):
            writer.writerow(_csv_cell(v, k, decimal_symbol)
                            for v, k in zip(row.values, kinds, strict=True))
            if count % 500 == 0:
                yield flush()
        if table.footer is not None:
            writer.writerow(_csv_cell(v, k, decimal_symbol)
                            for v, k in zip(table.footer.values, kinds, strict=True))
        yield flush()

    return Response(
        stream_with_context(generate()), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_safe_filename(filename)}"',
                 "Cache-Control": "no-store"})


# --- SQL -------------------------------------------------------------------------------


class days_between(FunctionElement):  # noqa: N801 (reads as the SQL function it is)
    """``days_between(start, end)``: the days from ``start`` to ``end`` (fractional).

    SQLite keeps timestamps as text (``julianday`` reads them); PostgreSQL subtracts
    them into an interval.
    """

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    start, end = list(element.clauses)
    return (f"(julianday({compiler.process(end, **kw)}) - "
            f"julianday({compiler.process(start, **kw)}))")


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    start, end = list(element.clauses)
    return (f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
            f"{compiler.process(start, **kw)})) / 86400.0)")


# --- paging ----------------------------------------------------------------------------


class RowPagination(SelectPagination):
    """A page of a report's rows (``db.paginate`` hands back the first column only):
    ``RowPagination(select=statement, session=db.session, page=..., per_page=...)``."""

    def _query_items(self) -> list[Any]:
        statement = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(statement))


# --- pages -----------------------------------------------------------------------------


def _registry():
    return current_app.extensions["erp"]


@bp.route("/reports")
@login_required
def index():
    reports = _registry().items(Report, current_user)
    return render_template("erp/reports/index.html", reports=reports)


REPORTS_MENU_ORDER = 1000  # after every module's entry


def add_reports_entry(registry: Any) -> None:
    """The host's own menu entry: Reports, shown to a user who may open at least one report.

    Called once the modules are registered: a report's pages (the blueprint of its endpoint,
    unless that blueprint has a menu entry of its own) mark the entry as the current one.
    """
    menus = {item.endpoint.split(".")[0]
             for item in registry.items(MenuItem, check_permission=False)}
    pages = sorted({report.endpoint.split(".")[0]
                    for report in registry.items(Report, check_permission=False)} - menus)

    def sees_a_report(user: Any) -> bool:
        return bool(registry.items(Report, user))

    registry.add(MenuItem("reports", _l("Reports"), "reports.index", order=REPORTS_MENU_ORDER,
                          blueprints=tuple(pages), visible=sees_a_report, quick_link=False))
