"""Reading numbers and dates as people type them: pt-BR (1.234,56; 31/12/2026) or ISO."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

_DATE_BR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_decimal(value) -> Decimal | None:
    """'1.234,56' -> 1234.56; '1234.56' -> 1234.56; '1,5' -> 1.5; None/'' -> None.

    Raises ValueError for anything else. A single separator followed by exactly three
    digits ('1.234') is read as thousands, as a Brazilian would mean it.
    """
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value).strip().replace("R$", "").replace("\xa0", "").replace(" ", "")
    if not text:
        return None
    if "," in text and "." in text:
        # The last separator is the decimal one.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".") if text.count(",") == 1 else text.replace(",", "")
    elif text.count(".") > 1 or re.fullmatch(r"-?\d{1,3}\.\d{3}", text):
        text = text.replace(".", "")  # thousands separators only
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a number: {value!r}")
    return result


def parse_date(value) -> date | None:
    """'31/12/2026' or '2026-12-31' -> date(2026, 12, 31); None/'' -> None; else ValueError."""
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    text = str(value).strip()
    if not text:
        return None
    match = _DATE_BR.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    return date.fromisoformat(text[:10])
