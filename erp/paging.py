"""Keyset paging for the HTML lists (issue 15): "Previous / Next" by cursor and a capped count.

``db.paginate`` counts every matching row and skips ``(page - 1) * per_page`` of them on
each page: both cost what the table holds (page 2,000 of 200,000 accounts: 170-400 ms).
Here a page continues from the sort values of the row it starts after (``?after=``) or
ends before (``?before=``): an index walked in the list's order from that point, so a
deep page costs what the first one does. The count stops at ``COUNT_CAP`` ("more than
1,000 records") for the same reason. ``?page=N`` still serves the first few pages
(an OFFSET of at most ``MAX_OFFSET`` rows); deeper positions are reached by cursor.

    keys = sort_keys(Account.legal_name, Account.id)            # ascending, id last
    page = keyset_page(statement, keys, per_page=page_size())   # reads request.args
    {{ keyset_nav(page, 'crm.accounts') }}                      # macros.html

The last key must be unique (the id): rows with equal sort values (two accounts of the
same name) are then neither repeated nor skipped. The statement is the list's SELECT of
one entity, filtered and scoped; the cursor only adds a condition on the sort columns to
it, so a crafted cursor never shows a row outside the user's scope. A cursor that does
not decode to the list's keys (typed, truncated, of another sort) is ignored: the first
page is shown.

A key on a nullable column lists its NULLs last on both databases (SQLite sorts them
first, PostgreSQL last): the rows with a value, walked in order, then those without, in
id order, each part through its own index range (``nullable=True``; the first key only).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import request
from sqlalchemy import Select, and_, func, literal, or_, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .db import MAX_ID, db
from .params import parse_int

__all__ = ["COUNT_CAP", "MAX_OFFSET", "IdsReader", "KeysetPage", "SortKey", "beyond",
           "capped_count", "decode_cursor", "encode_cursor", "gathered", "keyset_page",
           "sort_keys", "unindexed", "unindexed_anywhere"]

COUNT_CAP = 1000  # "more than 1,000 records": a count that stops there costs the same at any size
MAX_OFFSET = 500  # ?page=N by OFFSET while it skips at most this many rows; deeper: cursors
MAX_CURSOR = 2000  # characters: a cursor holds a few sort values, a name at most

# (cursor values or None, reverse, limit, offset) -> the page's ids (keyset_page)
IdsReader = Callable[[tuple | None, bool, int, int], list]


class unindexed(FunctionElement):  # noqa: N801 (an SQL construct, named like func.*)
    """A column as SQLite's ``+column``: the same value, which no index serves. SQLite's
    planner takes an index that reads a list in its ORDER BY's order even when the WHERE
    keeps a handful of its rows (a new rep's: a walk over every account); without one, it
    gathers the few rows through the scope's index and sorts them. PostgreSQL weighs
    both by its statistics: the column as is."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, expression):
        super().__init__(expression)
        self.type = expression.type


@compiles(unindexed)
def _unindexed(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)


class unindexed_anywhere(unindexed):  # noqa: N801
    """:class:`unindexed` on PostgreSQL too, as an expression no index serves that sorts
    as the column does (``name || ''``, ``id + 0``): for a statement whose rows are found
    through another index (a search's trigram matches), so that neither planner may walk
    the sort's index testing each row instead (issue 15: a frequent word's matches that
    cluster in the sort's order, "Silva …" under S)."""

    inherit_cache = True


@compiles(unindexed_anywhere)
def _unindexed_anywhere(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    try:
        kind = element.type.python_type
    except NotImplementedError:  # pragma: no cover - every sort column has a plain type
        kind = str
    if issubclass(kind, str):
        return f"({column} || '')"
    if issubclass(kind, datetime):
        return f"({column} + interval '0 seconds')"
    return f"({column} + 0)"  # numbers; a date plus 0 days


@compiles(unindexed_anywhere, "sqlite")
def _unindexed_anywhere_sqlite(element, compiler, **kw):
    return _unindexed_sqlite(element, compiler, **kw)


@dataclass(frozen=True)
class SortKey:
    """One column of a list's ORDER BY."""

    column: Any  # a mapped attribute (Account.legal_name)
    descending: bool = False
    nullable: bool = False  # its NULLs listed last (the first key only)
    attribute: str | None = None  # the row's attribute, when ``column`` is an expression

    @property
    def name(self) -> str:
        return self.attribute or self.column.key

    def ordered(self, reverse: bool = False):
        return self.column.asc() if self.descending == reverse else self.column.desc()


def sort_keys(*columns, descending: bool = False, nullable: bool = False) -> tuple[SortKey, ...]:
    """Keys all in one direction (the index then answers both ways); ``nullable`` marks
    the first one."""
    return tuple(SortKey(column, descending, nullable and n == 0)
                 for n, column in enumerate(columns))


def gathered(keys: Sequence[SortKey], *, anywhere: bool = False) -> tuple[SortKey, ...]:
    """The same order, for a statement that selects few rows (a small scope): read
    through the WHERE's index and sorted, never by walking an index in the sort's order
    past every row of the others (see :class:`unindexed`; ``anywhere``: on PostgreSQL
    too, :class:`unindexed_anywhere`)."""
    kind = unindexed_anywhere if anywhere else unindexed
    return tuple(SortKey(kind(k.column), k.descending, k.nullable, k.name) for k in keys)


# --- cursors -------------------------------------------------------------------------------


def _python_type(key: SortKey) -> type:
    try:
        return key.column.type.python_type
    except NotImplementedError:  # pragma: no cover - every sort column has a plain type
        return str


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode_decimal(value: Any) -> Decimal | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < 10**15 else None


_DECODERS = {
    bool: lambda v: v if isinstance(v, bool) else None,
    int: lambda v: parse_int(v, min=-MAX_ID - 1, max=MAX_ID) if isinstance(v, int) else None,
    str: lambda v: v if isinstance(v, str) and "\x00" not in v else None,
    datetime: lambda v: datetime.fromisoformat(v) if isinstance(v, str) else None,
    date: lambda v: date.fromisoformat(v) if isinstance(v, str) else None,
    Decimal: _decode_decimal,
}


def _decode_value(value: Any, kind: type) -> Any:
    """The JSON value as the column's Python type; ValueError if it is not one."""
    if value is None:
        return None
    decoded = _DECODERS.get(kind, _DECODERS[str])(value)
    if decoded is None:
        raise ValueError(value)
    return decoded


def _signature(keys: Sequence[SortKey]) -> str:
    """Which list order a cursor belongs to: a cursor of another sort is not one of this."""
    return ",".join(("-" if k.descending else "") + k.name for k in keys)


def encode_cursor(keys: Sequence[SortKey], row: Any) -> str:
    """The cursor of ``row``: its sort values, as URL-safe text."""
    values = [_signature(keys), *(_encode_value(getattr(row, k.name)) for k in keys)]
    text = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(keys: Sequence[SortKey], token: str | None) -> tuple | None:
    """The sort values in ``token``; None if it is absent or not a cursor of ``keys``."""
    if not token or len(token) > MAX_CURSOR:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw.decode())
        if (not isinstance(values, list) or len(values) != len(keys) + 1
                or values[0] != _signature(keys)):
            return None
        decoded = tuple(_decode_value(v, _python_type(k))
                        for v, k in zip(values[1:], keys, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        return None
    # Only the first key may be NULL (a nullable one); the id never is.
    if any(v is None for v in decoded[1:]) or (decoded[0] is None and not keys[0].nullable):
        return None
    return decoded


# --- the page --------------------------------------------------------------------------------


def beyond(keys: Sequence[SortKey], values: Sequence, reverse: bool):
    """Rows after ``values`` in the list's order (before them if ``reverse``), none NULL.

    Keys in one direction compare as a row value, ``(a, id) > (x, n)``: both databases
    read that as a range of an index on (…, a, id). Mixed directions spell it out."""
    def later(key: SortKey, value):
        forward = key.descending == reverse
        typed = literal(value, key.column.type)
        return key.column > typed if forward else key.column < typed

    directions = {k.descending for k in keys}
    if len(directions) == 1:
        row = tuple_(*(k.column for k in keys))
        typed = tuple_(*(literal(v, k.column.type) for k, v in zip(keys, values, strict=True)))
        return row > typed if keys[0].descending == reverse else row < typed
    condition = later(keys[-1], values[-1])
    for key, value in zip(reversed(keys[:-1]), reversed(values[:-1]), strict=True):
        condition = or_(later(key, value), and_(key.column == literal(value, key.column.type),
                                                 condition))
    return condition


@dataclass
class KeysetPage:
    """One page of a list: its rows, cursors to the neighbours, and a capped count."""

    items: list
    per_page: int
    has_prev: bool
    has_next: bool
    prev_cursor: str | None
    next_cursor: str | None
    total: int  # exact below count_cap; count_cap + 1 means "more than count_cap"
    count_cap: int = COUNT_CAP
    first: bool = True  # the list's first page (no Previous)
    position: int | None = None  # the first row's 1-based position, when known (?page=)
    extra: dict = field(default_factory=dict)

    @property
    def total_capped(self) -> bool:
        """True when the list holds more rows than were counted."""
        return self.total > self.count_cap

    @property
    def paged(self) -> bool:
        """Whether there is more than this page (the pager is shown)."""
        return self.has_prev or self.has_next


def capped_count(statement: Select, id_column: Any, cap: int | None = None) -> int:
    """How many rows ``statement`` selects, counting up to ``cap + 1``: the subquery's LIMIT
    stops the reading there, so it costs the same at 20,000 rows and at 200,000."""
    cap = COUNT_CAP if cap is None else cap
    ids = statement.order_by(None).with_only_columns(id_column).limit(cap + 1)
    return db.session.scalar(select(func.count()).select_from(ids.subquery()))


def _id_column(statement: Select, keys: Sequence[SortKey]):
    return getattr(statement.column_descriptions[0]["entity"], keys[-1].name)


def _by_ids(statement: Select, keys: Sequence[SortKey], ids: list) -> list:
    """The rows of ``ids`` (the statement's entity, with its loader options), in that
    order; one statement."""
    if not ids:
        return []
    id_column = _id_column(statement, keys)
    by_id = {getattr(row, keys[-1].name): row for row in db.session.scalars(
        statement.order_by(None).where(id_column.in_(ids))).unique()}
    return [by_id[n] for n in ids if n in by_id]


def _fetch(statement: Select, keys: Sequence[SortKey], reverse: bool, limit: int,
           *, where=None, offset: int = 0, ids_first: bool = False) -> list:
    ordered = statement.where(where) if where is not None else statement
    ordered = ordered.order_by(None).order_by(*(k.ordered(reverse) for k in keys))
    if offset:
        ordered = ordered.offset(offset)
    if ids_first:
        ids = ordered.with_only_columns(_id_column(statement, keys)).limit(limit)
        return _by_ids(statement, keys, list(db.session.scalars(ids)))
    return list(db.session.scalars(ordered.limit(limit)).unique())


def _rows(statement: Select, keys: Sequence[SortKey], values: tuple | None, reverse: bool,
          limit: int, offset: int = 0, ids_first: bool = False,
          ids_reader: IdsReader | None = None) -> list:
    """Up to ``limit`` rows after (``reverse``: before) ``values`` (None: from the start),
    in the list's order (``reverse``: backwards). A nullable first key: its valued rows in
    order, then the NULL ones by the other keys, each part an index range of its own."""
    if ids_reader is not None:
        return _by_ids(statement, keys, ids_reader(values, reverse, limit, offset))
    first = keys[0]
    if not first.nullable:
        where = beyond(keys, values, reverse) if values is not None else None
        return _fetch(statement, keys, reverse, limit, where=where, offset=offset,
                      ids_first=ids_first)
    valued = first.column.is_not(None)
    empty = first.column.is_(None)
    rest = keys[1:]
    parts = []  # (condition, keys to order by), in the walk's order
    if not reverse:
        if values is None:
            parts = [(valued, keys), (empty, rest)]
        elif values[0] is not None:
            parts = [(and_(valued, beyond(keys, values, False)), keys), (empty, rest)]
        else:
            parts = [(and_(empty, beyond(rest, values[1:], False)), rest)]
    else:
        if values is None:
            parts = [(empty, rest), (valued, keys)]
        elif values[0] is None:
            parts = [(and_(empty, beyond(rest, values[1:], True)), rest), (valued, keys)]
        else:
            parts = [(and_(valued, beyond(keys, values, True)), keys)]
    # Each part's ids (every part read, even once the page is full: as many statements
    # whatever the page's size), then the rows in one statement, as the other lists.
    id_column = _id_column(statement, keys)
    found: list = []
    for condition, part_keys in parts:
        wanted = max(0, limit - len(found))
        ids = (statement.with_only_columns(id_column).where(condition).order_by(None)
               .order_by(*(k.ordered(reverse) for k in part_keys)).limit(wanted + offset))
        rows = list(db.session.scalars(ids))
        if offset:  # ?page=N of a nullable sort: skip across the parts
            skipped = min(offset, len(rows))
            rows, offset = rows[skipped:], offset - skipped
        found.extend(rows[:wanted])
    return _by_ids(statement, keys, found)


def keyset_page(statement: Select, keys: Sequence[SortKey], *, per_page: int,
                args: Mapping | None = None, count_cap: int | None = None,
                id_column: Any = None, counted: Select | None = None,
                ids_first: bool = False, ids_reader: IdsReader | None = None,
                count_reader: Callable[[int], int] | None = None) -> KeysetPage:
    """The page of ``statement`` that ``args`` (the request's query string) asks for:
    ``after=`` / ``before=`` a cursor, or ``page=N`` while its OFFSET is small, else the
    first. Statements: the rows (``per_page + 1``, to know if there is more) and the
    capped count, whatever the page's size; for a nullable key, each part's ids then the
    rows; one more when a ``before=`` page reaches the start (the first page is then
    shown, full). ``counted``: the same rows as a statement that counts cheaper (a
    search's matches read first, where the page walks the sort's index). ``ids_first``:
    the page's ids sorted, then its rows by id (one statement more): for a page picked
    from many rows that are sorted rather than read in order, so that only the sort
    columns of each, not its joined loads, go through the sort. ``ids_reader``: reads the
    page's ids itself, from the cursor's values (None: the start), the direction, how
    many and the offset (a search walked in an index of its own), then its rows by id;
    ``count_reader``: counts them itself, up to the cap it is given plus one."""
    args = request.args if args is None else args
    count_cap = COUNT_CAP if count_cap is None else count_cap
    per_page = max(1, per_page)
    id_column = keys[-1].column if id_column is None else id_column
    after = decode_cursor(keys, args.get("after"))
    before = decode_cursor(keys, args.get("before")) if after is None else None
    position = None
    if before is not None:
        rows = _rows(statement, keys, before, True, per_page + 1, ids_first=ids_first,
                     ids_reader=ids_reader)
        if len(rows) > per_page:
            items = list(reversed(rows[:per_page]))
            has_prev, has_next, first = True, True, False
        else:  # back at the start: the first page, full
            before = None
    if before is None:
        page = parse_int(args.get("page"), 1, min=1, max=MAX_OFFSET + 1)
        offset = (page - 1) * per_page
        if after is not None or offset > MAX_OFFSET:
            offset = 0
        rows = _rows(statement, keys, after, False, per_page + 1, offset=offset,
                     ids_first=ids_first, ids_reader=ids_reader)
        items, has_next = rows[:per_page], len(rows) > per_page
        first = after is None and offset == 0
        has_prev = not first
        position = offset + 1 if after is None else None
    if not items:  # a cursor past the end (rows deleted meanwhile): nothing either way
        has_prev = has_prev and not first
    return KeysetPage(
        items=items, per_page=per_page, has_prev=has_prev, has_next=has_next,
        prev_cursor=encode_cursor(keys, items[0]) if has_prev and items else None,
        next_cursor=encode_cursor(keys, items[-1]) if has_next and items else None,
        total=(count_reader(count_cap) if count_reader is not None else
               capped_count(statement if counted is None else counted, id_column, count_cap)),
        count_cap=count_cap,
        first=first, position=position)
