"""Shown phones (issue 15's throughput): a Brazilian number's national format is worked out
once per shape (first digits and length) and filled in with each number's digits, instead of
parsing and formatting every phone of every page. The same text as the phone library's."""

from __future__ import annotations

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.crm.services import validation as v


def library_format(e164: str) -> str:
    """What format_phone showed before: parse the stored number, then format it."""
    number = phonenumbers.parse(e164, "BR")
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 55
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)


brazilian = st.builds(
    lambda area, rest: f"+55{area}{rest}",
    st.integers(10, 99).map(str),
    st.one_of(st.from_regex(r"\A[0-9]{8}\Z"), st.from_regex(r"\A[0-9]{9}\Z"),
              st.from_regex(r"\A(300|400|4002|4004|800)[0-9]{4,6}\Z")))


@settings(max_examples=400, deadline=None)
@given(brazilian)
def test_a_brazilian_number_is_shown_as_the_phone_library_formats_it(e164):
    assert v.format_phone(e164) == library_format(e164)


def test_special_shapes_and_foreign_numbers_as_before():
    for e164 in ("+5511987654321", "+551133334444", "+5508001234567", "+5530012345",
                 "+5540020000", "+16502530000", "+351912345678", "not a phone"):
        expected = library_format(e164) if e164.startswith("+") else e164
        assert v.format_phone(e164) == expected, e164


def test_the_format_is_worked_out_once_per_shape(monkeypatch):
    v._NATIONAL_TEMPLATES.clear()
    formatted, parsed = [], []
    format_number, parse = phonenumbers.format_number, phonenumbers.parse

    def counting_format(*args, **kwargs):
        formatted.append(args[0])
        return format_number(*args, **kwargs)

    def counting_parse(*args, **kwargs):
        parsed.append(args[0])
        return parse(*args, **kwargs)

    monkeypatch.setattr(phonenumbers, "format_number", counting_format)
    monkeypatch.setattr(phonenumbers, "parse", counting_parse)
    # One shape: area code 11, a mobile's 9 digits starting 98765.
    shown = [v.format_phone(f"+551198765{n:04d}") for n in range(50)]
    assert shown[:2] == ["(11) 98765-0000", "(11) 98765-0001"]
    assert len(formatted) == 1 and parsed == []
    template = v._NATIONAL_TEMPLATES[("11987", 11)]
    assert v.format_phone("+5511987659999") == "(11) 98765-9999"
    assert v._NATIONAL_TEMPLATES[("11987", 11)] is template and len(formatted) == 1
