"""Helpers for the report tests: read a page's table and a CSV download back into rows,
compare them as figures, and count the SQL statements a request runs (the counting is the
test kit's, erp.testing.queries)."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser

from erp.testing.queries import QueryCounter, captured, queries_for  # noqa: F401 (re-exported)

BOM = "\ufeff"


class _TableParser(HTMLParser):
    """The text of each cell of the table with ``id``: header, body and footer rows."""

    def __init__(self, table_id: str):
        super().__init__(convert_charrefs=True)
        self.table_id = table_id
        self.depth = 0  # > 0 inside the wanted table
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            if self.depth or attrs.get("id") == self.table_id:
                self.depth += 1
            return
        if not self.depth:
            return
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.depth and self.cell is not None:
            self.cell.append(data)


def html_table(html: str, table_id: str) -> list[list[str]]:
    parser = _TableParser(table_id)
    parser.feed(html)
    assert parser.rows, f"no table #{table_id} in the page"
    return parser.rows


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith(BOM), "the CSV starts with a byte-order mark (Excel)"
    delimiter = ";" if text.split("\r\n", 1)[0].count(";") else ","
    return list(csv.reader(io.StringIO(text[len(BOM):]), delimiter=delimiter))


def figure(cell: str):
    """A cell as a comparable value: a number when it is one ('R$1,234.50' -> 1234.50,
    '66.7%' -> 66.7, '—' and '' -> None), else the text."""
    text = cell.strip()
    if text in ("", "—"):
        return None
    digits = re.sub(r"[^\d.,-]", "", text)
    if digits and re.search(r"\d", digits) and not re.search(r"[A-Za-z]{2}", text.replace(
            "R$", "")):
        digits = digits.replace(",", "")  # English pages: ',' groups thousands
        try:
            return Decimal(digits)
        except InvalidOperation:
            pass
    return text


def same_figures(table: list[list[str]], rows: list[list[str]]) -> None:
    """The page's table and the CSV hold the same header and the same figures."""
    assert table[0] == rows[0], "same header"
    assert len(table) == len(rows), (table, rows)
    for shown, exported in zip(table[1:], rows[1:], strict=True):
        assert [figure(c) for c in shown] == [figure(c) for c in exported], (shown, exported)


SVG = "{http://www.w3.org/2000/svg}"


def svgs(html: str) -> list[ET.Element]:
    """The inline SVG charts of a page, parsed as XML (so they must be well-formed)."""
    found = re.findall(r"<svg .*?</svg>", html, re.S)
    return [ET.fromstring(svg) for svg in found]  # noqa: S314 (our own output)


def by_class(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if e.get("class") == css]


def list_query_counts(app, client, path: str, account_id: int, sizes=(5, 40)) -> dict:
    """The statements one list page runs, per (accounts, page size): the whole list of
    many accounts' documents, and one account's (``?account_id=``). A list without N+1
    gives one value for all of them."""
    counts, saved = {}, app.config["ERP_PAGE_SIZE"]
    try:
        for size in sizes:
            app.config["ERP_PAGE_SIZE"] = size
            counts["many", size] = queries_for(app, client, path)
            counts["one", size] = queries_for(app, client, f"{path}?account_id={account_id}")
    finally:
        app.config["ERP_PAGE_SIZE"] = saved  # the app may be shared by later tests
    return counts
