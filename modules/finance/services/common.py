"""What finance's rules share: whose "today" they use, sums as money, and the parsers of
an amount and a date with finance's own rules and messages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from erp.clock import local_today
from erp.formats import parse_date, parse_decimal
from erp.i18n import module_i18n
from erp.money import CENT
from erp.validation import Invalid

_ = module_i18n(__name__).gettext

MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)


def user_today(today: date | None, user) -> date:
    """``today`` if given (tests, reports as of a date), else the user's today."""
    return today or local_today(user)


def to_money(value) -> Decimal:
    """A SQL sum as money (SQLite may hand back a float or an int)."""
    return Decimal(str(value or 0)).quantize(CENT)


def amount_of(value: Any) -> Decimal:
    """A parser: an amount greater than zero, with at most two decimals (never rounded)."""
    try:
        number = parse_decimal(value)
    except ValueError:
        raise Invalid(_("Enter an amount, e.g. 1.234,56.")) from None
    if number is None:
        raise Invalid(_("This field is required."))
    if number <= 0:
        raise Invalid(_("The amount must be greater than zero."))
    if number > MAX_AMOUNT or number != number.quantize(CENT):
        raise Invalid(_("Enter an amount with at most two decimals."))
    return number.quantize(CENT)


def day_of(value: Any, *, default: date | None = None) -> date:
    """A parser: a date, ``default`` when blank; required."""
    try:
        day = parse_date(value)
    except ValueError:
        raise Invalid(_("Enter a date, e.g. 31/12/2026.")) from None
    if day is None:
        day = default
    if day is None:
        raise Invalid(_("This field is required."))
    return day
