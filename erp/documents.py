"""The billing-document kit: what sales, service (and any module that bills) share.

* :class:`DocumentLineMixin` — the columns of a document's line (position, description,
  quantity, unit price, discount, total); a module adds its table name, its foreign keys
  (the document, a product of its catalog) and relationships.
* :func:`line_total` and :func:`clean_lines` — one rule for a line's total, and one
  routine that validates the lines a form or the API sends (every message at once, on
  :class:`erp.validation.Errors`).
* :class:`InstallmentMixin`, :func:`installment_rows` and :func:`schedule` — an invoice's
  installments are rows (n of m, due date, amount), computed once with
  :func:`erp.money.installment_plan` and read back as ``[(due date, amount), ...]``, which
  is what the ``<module>.invoice_issued`` signals carry to finance.
* :func:`next_number` — the next number of a document kind ("sales.invoice"), from the
  host's sequence table: no two transactions get the same number, on SQLite or PostgreSQL.

The signal-with-veto call (send inside the transaction, a receiver's
:class:`~erp.signals.Refused` rolls back) is :func:`erp.signals.send_vetoable`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Integer, String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from .db import db
from .models import NumberSequence
from .money import CENT, MAX_MONEY, Money, Percent, Quantity, installment_plan
from .validation import Errors, Invalid, money, quantity, record_id, text

__all__ = ["DESCRIPTION_LENGTH", "MAX_LINES", "DocumentLineMixin", "InstallmentMixin",
           "clean_lines", "installment_rows", "line_total", "next_number", "schedule"]

MAX_LINES = 200
DESCRIPTION_LENGTH = 255
HUNDRED = Decimal(100)


# --- lines -----------------------------------------------------------------------------


class DocumentLineMixin:
    """The columns every document line has; ``position`` orders the lines (0, 1, ...)."""

    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_LENGTH))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Percent, default=Decimal("0.00"))  # percent
    total: Mapped[Decimal] = mapped_column(Money)


def line_total(quantity: Decimal, unit_price: Decimal, discount: Decimal = Decimal(0)
               ) -> Decimal:
    """quantity × unit price × (1 − discount/100), rounded half-up to cents."""
    gross = Decimal(quantity) * Decimal(unit_price) * (1 - Decimal(discount) / HUNDRED)
    return gross.quantize(CENT, rounding=ROUND_HALF_UP)


def _percent(value: Any, *, message: Any) -> Decimal | None:
    """A percentage from 0 to 100, to the cent."""
    number = money(value, message=message)
    if number is not None and number > HUNDRED:
        raise Invalid(message)
    return number


def _messages(max_lines: int) -> dict[str, Any]:
    return {
        "product_id": _l("Choose a product of the catalog."),
        "description": _l("Describe the product or service."),
        "quantity": _l("Use a quantity greater than zero."),
        "unit_price": _l("Use a price such as 1.234,56."),
        "unit_price_required": None,  # a blank price without a product: "unit_price"'s
        "discount": _l("Use a discount from 0 to 100 (%)."),
        "none": _l("Add at least one line."),
        "too_many": _l("At most %(n)d lines.", n=max_lines),
        "total": _l("The total is too large."),
    }


def _blank_id(value: str) -> bool:
    return value in ("", "__None")  # "__None": an empty select


def _as_text(value: Any) -> str:
    """A row's value as the form's text. A number given as one (an API's decimal string
    read into a Decimal) keeps its value: its decimal point becomes a comma, since the
    parsers read "1.500" as a Brazilian thousand and a lone comma as the decimal
    separator (issue 18)."""
    if isinstance(value, Decimal | float):
        return format(Decimal(str(value)), "f").replace(".", ",")
    return text(value)


def _clean_line(row: Mapping[str, Any], errors: Errors, prefix: str,
                product: Callable[[int], Any] | None, say: Mapping[str, Any]) -> dict | None:
    """One row of :func:`clean_lines` (``None``: an empty row of the form, skipped)."""
    raw = {name: _as_text(row.get(name)) for name in (
        "product_id", "description", "quantity", "unit_price", "discount")}
    if product is None:
        raw["product_id"] = ""
    if _blank_id(raw["product_id"]) and not any(raw[name] for name in (
            "description", "quantity", "unit_price", "discount")):
        return None
    item = None
    if not _blank_id(raw["product_id"]):
        product_id = errors.clean(prefix + "product_id", record_id, raw["product_id"],
                                  message=say["product_id"])
        item = product(product_id) if product_id is not None else None
        if item is None and product_id is not None:
            errors.add(prefix + "product_id", say["product_id"])
    description = errors.clean(
        prefix + "description", text, raw["description"] or (item.name if item is not None else ""),
        required=True, max_length=DESCRIPTION_LENGTH, message=say["description"])
    amount = errors.clean(prefix + "quantity", quantity, raw["quantity"] or "1",
                          message=say["quantity"])
    if raw["unit_price"]:
        price = errors.clean(prefix + "unit_price", money, raw["unit_price"],
                             message=say["unit_price"])
    elif item is not None:
        price = Decimal(item.price).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        errors.add(prefix + "unit_price", say["unit_price_required"] or say["unit_price"])
        price = None
    discount = errors.clean(prefix + "discount", _percent, raw["discount"] or "0",
                            message=say["discount"])
    total = line_total(amount, price, discount) if None not in (amount, price, discount) else None
    line = {"description": description, "quantity": amount, "unit_price": price,
            "discount": discount, "total": total}
    if product is not None:
        line["product_id"] = item.id if item is not None else None
    return line


def clean_lines(rows: Iterable[Mapping[str, Any]], errors: Errors, *, field: str = "lines",
                product: Callable[[int], Any] | None = None, required: bool = True,
                max_lines: int = MAX_LINES, max_total: Decimal | None = MAX_MONEY,
                messages: Mapping[str, Any] | None = None) -> list[dict]:
    """Validate the lines of a document; messages go to ``errors`` as
    ``"<field>-<i>-<name>"`` (the form's sub-field) or ``field`` (the whole list).

    Each row may hold ``description``, ``quantity`` (blank: 1), ``unit_price``,
    ``discount`` (percent, blank: 0) and, when the module has a catalog (``product``: a
    function from a product id to the product, or ``None``), ``product_id``: the
    product's name and price fill a blank description and price. A row with nothing in
    it is skipped. ``required``: at least one line; ``max_total``: the lines' sum must
    stay below it (``None``: not checked here). ``messages`` overrides a default
    message by key (see ``_messages``).

    Returns one dict per line, with its ``total`` (:func:`line_total`) and, with a
    catalog, its ``product_id``; a value that was wrong is ``None`` (and ``errors`` has
    its message).
    """
    say = {**_messages(max_lines), **(messages or {})}
    lines = [line for index, row in enumerate(rows)
             if (line := _clean_line(row, errors, f"{field}-{index}-", product, say)) is not None]
    if not lines and required:
        errors.add(field, say["none"])
    elif len(lines) > max_lines:
        errors.add(field, say["too_many"])
    elif max_total is not None and all(line["total"] is not None for line in lines) and \
            sum(line["total"] for line in lines) >= max_total:
        errors.add(field, say["total"])
    return lines


# --- installments ------------------------------------------------------------------------


class InstallmentMixin:
    """One due date of an invoice and the amount due then: installment ``position`` (1..m)
    of m. A module adds its table name, the invoice's foreign key and relationship."""

    position: Mapped[int] = mapped_column(Integer)  # 1..m
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)


def installment_rows(model: type, total: Decimal, count: int, first_due: date) -> list:
    """``count`` rows of ``model`` (an :class:`InstallmentMixin`) splitting ``total`` with
    THE rule, :func:`erp.money.installment_plan`."""
    return [model(position=n, due_date=due, amount=amount)
            for n, (due, amount) in enumerate(installment_plan(total, count, first_due),
                                              start=1)]


def schedule(installments: Iterable[InstallmentMixin]) -> list[tuple[date, Decimal]]:
    """The installments as ``[(due date, amount), ...]`` in order, as the
    ``invoice_issued`` signals carry them."""
    return [(row.due_date, row.amount)
            for row in sorted(installments, key=lambda row: row.position)]


# --- numbering ---------------------------------------------------------------------------


def next_number(key: str) -> int:
    """The next number of the sequence ``key`` ("sales.invoice", "service.order"): 1, 2, …

    One statement — ``INSERT … ON CONFLICT (key) DO UPDATE SET last = last + 1 RETURNING
    last`` — in the caller's transaction: the row stays locked until that transaction
    ends, so a concurrent one waits and gets the following number (PostgreSQL's row lock;
    SQLite has one writer at a time), and a rollback gives the number back. No gaps, no
    duplicates, no retry.
    """
    table = NumberSequence.__table__
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(key=key, last=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key], set_={"last": table.c.last + 1}
    ).returning(table.c.last)
    return db.session.execute(statement).scalar_one()
