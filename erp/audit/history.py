"""A record's history as people read it: its audit entries (and those of the records that
name it as their parent), newest first, a page at a time — the user's name, the time in
the user's time zone, the field's label, old → new with dates, numbers, yes/no, coded
values and referenced records (by name) shown as elsewhere in the app.

The page that shows a history has already checked the record is in the user's scope;
this module does not check again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import Boolean, Date, DateTime, Numeric, and_, inspect, or_, select
from sqlalchemy.orm import ColumnProperty, Mapper

from ..db import db, mappers_by_table, record_key
from ..i18n import date_filter, datetime_filter, money, number
from ..money import is_money
from ..params import page_arg
from .models import CREATE, DELETE, UPDATE, AuditEntry
from .recorder import HIDDEN, spec_of

PER_PAGE = 20
MAX_PAGE = 100_000
PAGE_ARG = "history_page"
ACTION_LABELS = {CREATE: _l("Created"), UPDATE: _l("Changed"), DELETE: _l("Deleted")}


def history_select(record):
    """The entries of ``record`` and of its children, newest first (two index range scans)."""
    table, key = inspect(record).mapper.local_table.name, record_key(record)
    return (select(AuditEntry)
            .where(or_(and_(AuditEntry.table_name == table, AuditEntry.record_id == key),
                       and_(AuditEntry.parent_table == table, AuditEntry.parent_id == key)))
            .order_by(AuditEntry.id.desc()))


def requested_page(args) -> int:
    """The history page asked for (``?history_page=``): anything not a sane number is 1."""
    # erp.params: "²".isdigit() is true, and int("²") was a 500.
    return min(page_arg(PAGE_ARG, args), MAX_PAGE)


# --- describing entries ------------------------------------------------------------------


@dataclass
class Line:
    label: str
    old: str | None
    new: str | None


@dataclass
class Shown:
    entry: AuditEntry
    action: str
    user: str
    subject: str | None  # another record's entry (a payment's, on its receivable's page)
    lines: list[Line] = field(default_factory=list)


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def model_label(mapper: Mapper | None, table: str) -> str:
    if mapper is None:
        return table
    return str(getattr(mapper.class_, "__audit_name__", None) or mapper.class_.__name__)


def _column(mapper: Mapper | None, name: str):
    prop = mapper.attrs.get(name) if mapper is not None else None
    return prop.columns[0] if isinstance(prop, ColumnProperty) else None


def _reference(column) -> str | None:
    """The table a foreign-key column refers to (its value is shown by that record's name)."""
    if column is None or not column.foreign_keys:
        return None
    return next(iter(column.foreign_keys)).column.table.name


def _referenced_names(entries, mappers) -> dict[tuple[str, str], str]:
    """Names of the records the page's values refer to: one query per referred table."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        mapper = mappers.get(entry.table_name)
        for name, values in (entry.changes or {}).items():
            target = _reference(_column(mapper, name))
            if target:
                wanted[target].update(v for v in values if v is not None and v != HIDDEN)
    names = {}
    for table, ids in wanted.items():
        target = mappers.get(table)
        if target is None or len(target.primary_key) != 1:
            continue
        primary = target.primary_key[0]
        try:
            values = [primary.type.python_type(i) for i in ids]
        except (TypeError, ValueError, NotImplementedError):
            continue
        for obj in db.session.scalars(select(target.class_).where(primary.in_(values))):
            names[(table, str(inspect(obj).identity[0]))] = str(obj)
    return names


def show_value(mapper: Mapper | None, name: str, text: str | None, names: dict) -> str | None:
    """A stored value (text) as the rest of the app would show it; None for empty."""
    if text is None:
        return None
    if text == HIDDEN:
        return _("(hidden)")
    choices = getattr(mapper.class_, "__audit_choices__", {}).get(name) if mapper else None
    if choices and text in choices:
        return str(choices[text])
    column = _column(mapper, name)
    if column is None:
        return text
    target = _reference(column)
    if target:
        return names.get((target, text), f"#{text}")
    kind = column.type
    try:
        if isinstance(kind, Boolean):
            return _("Yes") if text == "true" else _("No")
        if isinstance(kind, DateTime):
            return datetime_filter(datetime.fromisoformat(text))
        if isinstance(kind, Date):
            return date_filter(date.fromisoformat(text))
        if isinstance(kind, Numeric):
            return money(Decimal(text)) if is_money(kind) else number(Decimal(text), kind.scale)
    except (ValueError, InvalidOperation):
        pass  # recorded under another type: shown as it was kept
    return text


def field_label(mapper: Mapper | None, name: str) -> str:
    labels = getattr(mapper.class_, "__audit_labels__", {}) if mapper else {}
    return str(labels[name]) if name in labels else name


def _order(mapper: Mapper | None, changes: dict) -> list[str]:
    if mapper is None:
        return list(changes)
    spec = spec_of(mapper)
    known = [*spec.columns, *spec.collections]
    return sorted(changes, key=lambda n: known.index(n) if n in known else len(known))


def describe(entries, own_table: str | None = None) -> list[Shown]:
    """Entries as the template shows them; ``own_table``: the page's record (others get a
    subject line saying whose entry it is)."""
    mappers = mappers_by_table()
    names = _referenced_names(entries, mappers)
    shown = []
    for entry in entries:
        mapper = mappers.get(entry.table_name)
        subject = None
        if own_table is not None and entry.table_name != own_table:
            subject = f"{model_label(mapper, entry.table_name)} {entry.record_label}".strip()
        item = Shown(entry, action_label(entry.action), entry.user_name or _("System"), subject)
        changes = entry.changes or {}
        for name in _order(mapper, changes):
            old, new = changes[name]
            item.lines.append(Line(field_label(mapper, name), show_value(mapper, name, old, names),
                                   show_value(mapper, name, new, names)))
        shown.append(item)
    return shown


# --- the section -------------------------------------------------------------------------


def render_history(record, *, page: int = 1,
                   page_url: Callable[[int], str] | None = None) -> Markup:
    """The History section of ``record`` (HTML): page ``page``, with links made by
    ``page_url(n)`` (default: this page's URL with ``?history_page=n``)."""
    pagination = db.paginate(history_select(record), page=page, per_page=PER_PAGE,
                             error_out=False)
    table = inspect(record).mapper.local_table.name
    if page_url is None:
        page_url = _same_page_url
    html = render_template("erp/audit/history.html", pagination=pagination,
                           entries=describe(pagination.items, table), page_url=page_url)
    return Markup(html)  # noqa: S704 (a template of ours, autoescaped)


def _same_page_url(page: int) -> str:
    # The query's arguments are kept, not those url_for reads as options (_external, _scheme...).
    kept = {k: v for k, v in request.args.items() if not k.startswith("_")}
    args = {**kept, **(request.view_args or {}), PAGE_ARG: page}
    return url_for(request.endpoint, **args, _anchor="history")


def history_section(record, page_url: Callable[[int], str] | None = None) -> Markup:
    """``{{ audit_history(record) }}`` in a template: the page number from the request."""
    return render_history(record, page=requested_page(request.args), page_url=page_url)
