"""Calendar and money arithmetic shared by the modules that bill (sales, service, finance),
and the column types of every amount and quantity they store.

* :data:`Money` (``Numeric(14, 2)``), :data:`Quantity` (``Numeric(12, 3)``) and
  :data:`Percent` (``Numeric(5, 2)``): the column types of models (read back as
  ``Decimal``). A model never writes ``Numeric(14, 2)`` by hand; a migration keeps its
  literal type (it describes the table as it was then).
* :func:`installment_plan`: THE installment rule of the ERP — sales' and service's
  invoices and finance's receivables entered by hand all split an amount with it.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import Numeric

CENT = Decimal("0.01")

# The largest amounts the columns hold: Numeric(14, 2) money, Numeric(12, 3) quantities.
MAX_MONEY = Decimal("1e12")
MAX_QUANTITY = Decimal("1e9")
QUANTITY_STEP = Decimal("0.001")

Money = Numeric(14, 2, asdecimal=True)
"""An amount of money: 12 digits and the cents (below :data:`MAX_MONEY`)."""

Quantity = Numeric(12, 3, asdecimal=True)
"""A quantity of a document line: 9 digits and 3 decimals (below :data:`MAX_QUANTITY`)."""

Percent = Numeric(5, 2, asdecimal=True)
"""A percentage with two decimals, 0 to 100 (a line's discount)."""


def is_money(column_type) -> bool:
    """Whether a column's type is :data:`Money` (shown as ``R$ 720,00``, not a number)."""
    return (isinstance(column_type, Numeric)
            and (column_type.precision, column_type.scale) == (Money.precision, Money.scale))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def installment_plan(total: Decimal, count: int, first_due: date) -> list[tuple[date, Decimal]]:
    """``count`` monthly installments ``(due date, amount)`` from ``first_due``.

    The rule, the same for every document that is paid in parts (a sales invoice, a
    service invoice, receivables entered by hand in finance): each part is the total
    divided by ``count``, rounded DOWN to the cent; the LAST part takes the remainder, so
    the parts always sum to ``total``. 100.00 in 3 is 33.33, 33.33, 33.34; 200.00 in 3 is
    66.66, 66.66, 66.68. The due dates fall a month apart, on the same day of the month
    (or that month's last day: 31 Jan, 28 Feb, 31 Mar), see :func:`add_months`.
    """
    total = Decimal(total).quantize(CENT)
    part = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    amounts = [part] * (count - 1) + [total - part * (count - 1)]
    return [(add_months(first_due, i), amount) for i, amount in enumerate(amounts)]
