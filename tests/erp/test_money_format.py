"""The money filter's format, worked out once per locale and currency (issue 15's
throughput): the same text as Babel's format_currency, without looking the locale's data,
the currency's symbol and digits and the separators up again for every amount. Structural
(one format object, no look-ups on later calls) and by property; no timings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel import Locale, numbers
from flask_babel import force_locale
from flask_babel import format_currency as babel_money
from hypothesis import given, settings
from hypothesis import strategies as st

from erp import i18n

LOCALES = ["pt_BR", "en", "es", "en_US", "de_CH", "hi_IN", "ja_JP", "ar_EG", "fr_FR"]
CURRENCIES = ["BRL", "USD", "EUR", "JPY", "KWD", "CHF"]

amounts = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**15, max_value=10**15,
                places=None),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**6, max_value=10**6,
                places=2),
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.sampled_from([Decimal("0"), Decimal("-0"), Decimal("-0.00"), Decimal("0.005"),
                     Decimal("0.015"), Decimal("-0.005"), Decimal("999.995"),
                     Decimal("1E+5"), Decimal("1E-10"), 2.675]))


@settings(max_examples=600, deadline=None)
@given(amounts, st.sampled_from(LOCALES), st.sampled_from(CURRENCIES))
def test_the_same_text_as_babel(value, locale, currency):
    parsed = Locale.parse(locale)
    expected = numbers.format_currency(value, currency, locale=parsed)
    assert i18n.money_format(parsed, currency).format(value) == expected


def test_money_filter_in_each_language(app):
    for language in ("pt_BR", "en", "es"):
        with app.test_request_context("/"), force_locale(language):
            for value in (Decimal("1234.5"), Decimal("-0.004"), 0, 1234567.891, -12):
                assert i18n.money(value) == babel_money(value, app.config["ERP_CURRENCY"])
                assert i18n.money(value, "USD") == babel_money(value, "USD")
            assert i18n.money(None) == ""
            assert i18n.money(Decimal("Infinity")) == babel_money(Decimal("Infinity"),
                                                                  app.config["ERP_CURRENCY"])


def test_the_format_is_worked_out_once_per_locale_and_currency(app, monkeypatch):
    i18n._money_formats.clear()
    looked_up = []
    for name in ("get_currency_symbol", "get_currency_precision", "get_group_symbol",
                 "get_decimal_symbol"):
        original = getattr(numbers, name)
        monkeypatch.setattr(numbers, name, lambda *a, _o=original, _n=name, **k: (
            looked_up.append(_n), _o(*a, **k))[1])
    with app.test_request_context("/"), force_locale("pt_BR"):
        first = i18n.money(Decimal("1234.56"), "BRL")
        made = list(looked_up)
        shown = [i18n.money(Decimal(n) / 7, "BRL") for n in range(50)]
    assert first == "R$\xa01.234,56" and shown[7] == "R$\xa01,00"
    assert made and looked_up == made  # 51 amounts, the locale's data read for the first
    with app.test_request_context("/"), force_locale("pt_BR"):
        fmt = i18n.money_format(Locale.parse("pt_BR"), "BRL")
        assert i18n.money_format(Locale.parse("pt_BR"), "BRL") is fmt
        assert i18n.money_format(Locale.parse("en"), "BRL") is not fmt


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("-Infinity")])
def test_what_the_fast_format_leaves_to_babel(value):
    assert i18n.money_format(Locale.parse("pt_BR"), "BRL").format(value) is None
