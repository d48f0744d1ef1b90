"""erp.validation (issue 14): the Errors collector and the parsers every clean_* service
uses — blank, required, bad input, bounds and rounding of each; LIKE patterns that match
the user's text literally, on the database too."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from decimal import Decimal

import pytest
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp.auth.models import User
from erp.db import MAX_ID, db
from erp.errors import Duplicate, InvalidInput
from erp.money import MAX_MONEY, MAX_QUANTITY
from erp.validation import (
    LIKE_ESCAPE,
    Errors,
    Invalid,
    choice,
    clean_field,
    date,
    integer,
    like,
    money,
    quantity,
    record,
    record_id,
    text,
)
from tests.conftest import make_user

BLANKS = (None, "", "   ", "\t\n")


def message_of(parser, value, **options) -> str:
    with pytest.raises(Invalid) as error:
        parser(value, **options)
    return str(error.value.message)


# --- Errors -----------------------------------------------------------------------------


def test_errors_collects_per_field_and_raises_them_all_as_text():
    errors = Errors()
    assert not errors and "amount" not in errors
    errors.raise_if_any()  # nothing to say: no exception
    errors.add("amount", _l("Use an amount such as 1.234,56."))
    errors("amount", "second")  # an Errors is also a fail(field, message) callback
    errors.add("__all__", "whole record")
    assert errors and "amount" in errors and "due_date" not in errors
    with pytest.raises(InvalidInput) as raised:
        errors.raise_if_any()
    assert raised.value.errors == {"amount": ["Use an amount such as 1.234,56.", "second"],
                                   "__all__": ["whole record"]}
    assert all(type(m) is str for ms in raised.value.errors.values() for m in ms)
    assert raised.value.duplicates == []


def test_errors_clean_returns_the_value_or_keeps_the_message():
    errors = Errors()
    assert errors.clean("amount", money, "1.234,56") == Decimal("1234.56")
    assert not errors
    assert errors.clean("amount", money, "abc") is None
    assert errors.clean("due", date, "", required=True, message="Give the due date.") is None
    assert errors.by_field == {"amount": ["Use an amount such as 1.234,56."],
                               "due": ["Give the due date."]}


def test_errors_clean_lets_other_exceptions_through():
    def broken(value):
        raise KeyError(value)

    with pytest.raises(KeyError):
        Errors().clean("x", broken, "y")


def test_raise_if_any_with_duplicates_only():
    duplicate = Duplicate(record=object(), reason="email", blocking=False)
    with pytest.raises(InvalidInput) as raised:
        Errors().raise_if_any([duplicate])
    assert raised.value.errors == {} and raised.value.duplicates == [duplicate]
    assert raised.value.needs_confirmation


def test_unknown_fields_are_reported_in_order():
    errors = Errors()
    errors.unknown({"name": 1, "zeta": 2, "alpha": 3}, ("name",))
    assert {field: [str(m) for m in ms] for field, ms in errors.by_field.items()} == {
        "alpha": ["Unknown field."], "zeta": ["Unknown field."]}
    assert list(errors.by_field) == ["alpha", "zeta"]


def test_clean_field_refuses_a_lone_value_at_once():
    assert clean_field("sequence", integer, "12") == 12
    assert clean_field("sequence", integer, "") is None
    with pytest.raises(InvalidInput) as raised:
        clean_field("sequence", integer, "x", message="Use a whole number.")
    assert raised.value.errors == {"sequence": ["Use a whole number."]}


# --- text -------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", BLANKS)
def test_text_blank(blank):
    assert text(blank) == ""
    assert message_of(text, blank, required=True) == "This field is required."
    assert message_of(text, blank, required=True, message="Name it.") == "Name it."


def test_text_strips_reads_scalars_and_bounds_the_length():
    assert text("  Ana  ") == "Ana"
    assert text(12) == "12" and text(Decimal("1.50")) == "1.50"
    assert text("x" * 5, max_length=5) == "xxxxx"
    assert message_of(text, "x" * 6, max_length=5) == "At most 5 characters."
    assert text("  xxxxx  ", max_length=5) == "xxxxx"  # measured after stripping


# --- choice -----------------------------------------------------------------------------


@pytest.mark.parametrize("blank", BLANKS)
def test_choice_blank(blank):
    assert choice(blank, choices=("a", "b")) is None
    assert message_of(choice, blank, choices=("a",), required=True) == (
        "Choose one of the options.")


def test_choice_good_bad_and_message():
    assert choice(" b ", choices=("a", "b")) == "b"
    assert message_of(choice, "c", choices=("a", "b")) == "Choose one of the options."
    assert message_of(choice, "A", choices=("a",), message="Pick a kind.") == "Pick a kind."


# --- integer ----------------------------------------------------------------------------


@pytest.mark.parametrize("blank", BLANKS)
def test_integer_blank(blank):
    assert integer(blank) is None
    assert message_of(integer, blank, required=True) == "Use a whole number."


@pytest.mark.parametrize("bad", ["abc", "1.5", "1,0", "²", "1e3", True, "9" * 40])
def test_integer_bad(bad):
    assert message_of(integer, bad) == "Use a whole number."


def test_integer_bounds():
    assert integer(" 42 ") == 42 and integer(7) == 7 and integer("-3") == -3
    assert integer(str(MAX_ID)) == MAX_ID
    assert message_of(integer, str(MAX_ID + 1)) == "Use a whole number."
    assert integer("1", minimum=1, maximum=60) == 1
    assert integer("60", minimum=1, maximum=60) == 60
    for outside in ("0", "61"):
        assert message_of(integer, outside, minimum=1, maximum=60,
                          message="From 1 to 60.") == "From 1 to 60."


# --- money ------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", BLANKS)
def test_money_blank(blank):
    assert money(blank) is None
    assert message_of(money, blank, required=True) == "Use an amount such as 1.234,56."


@pytest.mark.parametrize("bad", ["abc", "1,2,3x", "NaN", "Infinity", "-1", "1e12",
                                 "1.000.000.000.000"])
def test_money_bad(bad):
    assert message_of(money, bad) == "Use an amount such as 1.234,56."


def test_money_reads_brazilian_and_plain_numbers_rounding_half_up():
    assert money("1.234,56") == Decimal("1234.56")
    assert money("1234.56") == Decimal("1234.56")
    assert money(10) == Decimal("10.00") and money(Decimal("2.5")) == Decimal("2.50")
    assert money("0,005") == Decimal("0.01")  # half up, not to even
    assert money("0,004") == Decimal("0.00")
    assert money("2,675") == Decimal("2.68")


def test_money_bounds():
    assert money("0") == Decimal("0.00")  # the default minimum is zero, included
    assert money(MAX_MONEY - Decimal("0.01")) == Decimal("999999999999.99")
    assert message_of(money, MAX_MONEY) == "Use an amount such as 1.234,56."  # excluded
    assert money("-5", minimum=Decimal(-10)) == Decimal("-5.00")
    # Within the bounds as typed and once rounded.
    assert message_of(money, "-0,001") == "Use an amount such as 1.234,56."
    assert message_of(money, "999999999999,995") == "Use an amount such as 1.234,56."
    assert money("999999999999,994") == Decimal("999999999999.99")
    assert message_of(money, "100", maximum=Decimal(100), message="Too much.") == "Too much."


# --- quantity ---------------------------------------------------------------------------


@pytest.mark.parametrize("blank", BLANKS)
def test_quantity_blank(blank):
    assert quantity(blank) is None
    assert message_of(quantity, blank, required=True) == "Use a quantity greater than zero."


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "0,0004", "1e9", "NaN"])
def test_quantity_bad_and_out_of_bounds(bad):
    assert message_of(quantity, bad) == "Use a quantity greater than zero."


def test_quantity_rounds_half_up_to_the_thousandth():
    assert quantity("2,5") == Decimal("2.500")
    assert quantity("0,0005") == Decimal("0.001")
    assert quantity("1.234") == Decimal("1234.000")  # one separator and 3 digits: thousands
    assert quantity("1.2345") == Decimal("1.235")
    assert quantity("1,2345") == Decimal("1.235")
    assert quantity(MAX_QUANTITY - 1) == Decimal("999999999.000")
    assert message_of(quantity, "5", maximum=Decimal(5), message="Too many.") == "Too many."


# --- record_id and record ---------------------------------------------------------------


@pytest.mark.parametrize("blank", (*BLANKS, "__None"))
def test_record_id_blank(blank):
    assert record_id(blank) is None
    assert message_of(record_id, blank, required=True) == "Choose a valid record."


@pytest.mark.parametrize("bad", ["0", 0, "-1", "abc", "1.0", str(MAX_ID + 1), str(2**63),
                                 True, "²"])
def test_record_id_bad_is_invalid_never_a_sentinel(bad):
    assert message_of(record_id, bad) == "Choose a valid record."
    assert message_of(record_id, bad, message="Choose a tag.") == "Choose a tag."


def test_record_id_good():
    assert record_id("12") == 12 and record_id(12) == 12 and record_id(" 7 ") == 7
    assert record_id(str(MAX_ID)) == MAX_ID


def test_record_reads_the_row(ctx):
    user = make_user("kit", [])
    db.session.commit()
    assert record(str(user.id), model=User) is user
    assert record("", model=User) is None
    assert message_of(record, "", model=User, required=True) == "Choose a valid record."
    assert message_of(record, str(user.id + 1000), model=User,
                      message="Choose an active user.") == "Choose an active user."
    assert message_of(record, "abc", model=User) == "Choose a valid record."


# --- date -------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", BLANKS)
def test_date_blank(blank):
    assert date(blank) is None
    assert message_of(date, blank, required=True) == "Use a date such as 31/12/2026."


@pytest.mark.parametrize("bad", ["abc", "31/02/2026", "2026-13-01", "32/01/2026", "2026-12"])
def test_date_bad(bad):
    assert message_of(date, bad) == "Use a date such as 31/12/2026."
    assert message_of(date, bad, message="Give the due date.") == "Give the due date."


def test_date_good():
    assert date("31/12/2026") == Date(2026, 12, 31)
    assert date(" 2026-12-31 ") == Date(2026, 12, 31)
    assert date(Date(2026, 1, 2)) == Date(2026, 1, 2)
    assert date(datetime(2026, 1, 2, 15, 30)) == Date(2026, 1, 2)


# --- like -------------------------------------------------------------------------------


def test_like_escapes_the_wildcards_and_the_escape_itself():
    assert LIKE_ESCAPE == "\\"
    assert like("ana") == "%ana%"
    assert like("50%") == "%50\\%%"
    assert like("a_b") == "%a\\_b%"
    assert like("c:\\x") == "%c:\\\\x%"
    assert like("50%", prefix=True) == "50\\%%"


def test_like_matches_the_text_literally_on_the_database(ctx):
    names = ["50% off", "500 off", "a_b", "axb", "back\\slash", "backslash"]
    for number, name in enumerate(names):
        make_user(f"kit{number}", [], name=name)
    db.session.commit()

    def found(term: str, **options) -> list[str]:
        return sorted(db.session.scalars(select(User.name).where(
            User.name.ilike(like(term, **options), escape=LIKE_ESCAPE))))

    assert found("50%") == ["50% off"]
    assert found("0%") == ["50% off"]
    assert found("a_b") == ["a_b"]
    assert found("_") == ["a_b"]
    assert found("%") == ["50% off"]
    assert found("k\\s") == ["back\\slash"]
    assert found("50", prefix=True) == ["50% off", "500 off"]
    assert found("50%", prefix=True) == ["50% off"]
    assert found("% off", prefix=True) == []
    assert found("OFF") == ["50% off", "500 off"]  # ilike: any case


def test_texts_strip_blank_to_none_and_keep_a_long_one_as_typed():
    errors = Errors()
    out = errors.texts({"name": "  Ana ", "city": "", "notes": "x" * 6, "other": "y"},
                       {"name": 10, "city": 10, "notes": 5, "street": 10})
    assert out == {"name": "Ana", "city": None, "notes": "x" * 6}
    assert [str(m) for m in errors.by_field["notes"]] == ["At most 5 characters."]
    assert list(errors.by_field) == ["notes"]


def test_a_parser_translates_its_message_only_when_the_value_is_wrong():
    """Translating a lazy message early would choose the request's locale before its time
    (and, with it, reload the user a commit expired): a parser leaves it alone."""
    translated = []
    lazy = LazyString(lambda: translated.append(1) or "Wrong.")
    for parser, value, options in [
            (text, "a", {"required": True}), (choice, "a", {"choices": ("a",)}),
            (integer, "1", {}), (money, "1", {}), (quantity, "1", {}),
            (date, "2026-01-01", {}), (record_id, "1", {})]:
        parser(value, message=lazy, **options)
    assert translated == []
    assert message_of(integer, "x", message=lazy) == "Wrong." and translated
