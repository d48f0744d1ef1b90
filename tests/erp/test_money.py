from datetime import date
from decimal import Decimal

import pytest

from erp.money import add_months, installment_plan


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [(date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2028, 1, 31), 1, date(2028, 2, 29)),
     (date(2026, 11, 15), 2, date(2027, 1, 15)), (date(2026, 3, 10), -8, date(2025, 7, 10))],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_installment_plan_sums_to_the_total_and_the_last_takes_the_remainder():
    plan = installment_plan(Decimal("100.00"), 3, date(2026, 1, 31))
    assert plan == [(date(2026, 1, 31), Decimal("33.33")), (date(2026, 2, 28), Decimal("33.33")),
                    (date(2026, 3, 31), Decimal("33.34"))]
    assert installment_plan(Decimal("10"), 1, date(2026, 5, 1)) == [(date(2026, 5, 1),
                                                                     Decimal("10.00"))]
