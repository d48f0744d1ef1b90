from datetime import date
from decimal import Decimal

import pytest

from erp.formats import parse_date, parse_decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", Decimal("1234.56")),
        ("R$ 1.234,56", Decimal("1234.56")),
        ("1234.56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("1,5", Decimal("1.5")),
        ("1.234", Decimal("1234")),
        ("1.234.567", Decimal("1234567")),
        ("0.5", Decimal("0.5")),
        ("-10,00", Decimal("-10.00")),
        (7, Decimal("7")),
        ("", None),
        (None, None),
    ],
)
def test_parse_decimal(text, expected):
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["abc", "1,2,3.4.5x", "NaN", "Infinity"])
def test_parse_decimal_rejects(text):
    with pytest.raises(ValueError):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("31/12/2026", date(2026, 12, 31)), ("1/2/2027", date(2027, 2, 1)),
     ("2026-12-31", date(2026, 12, 31)), ("", None), (None, None)],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2026", "2026-13-01", "ontem"])
def test_parse_date_rejects(text):
    with pytest.raises(ValueError):
        parse_date(text)
