"""Calendar and money arithmetic shared by the modules that bill (sales, service, finance)."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_DOWN, Decimal

CENT = Decimal("0.01")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def installment_plan(total: Decimal, count: int, first_due: date) -> list[tuple[date, Decimal]]:
    """``count`` monthly installments from ``first_due``: equal parts rounded down to the
    cent, the last one taking the remainder, so they always sum to ``total``."""
    total = Decimal(total).quantize(CENT)
    part = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    amounts = [part] * (count - 1) + [total - part * (count - 1)]
    return [(add_months(first_due, i), amount) for i, amount in enumerate(amounts)]

# The largest amounts the columns hold: Numeric(14, 2) money, Numeric(12, 3) quantities.
MAX_MONEY = Decimal("1e12")
MAX_QUANTITY = Decimal("1e9")
QUANTITY_STEP = Decimal("0.001")
