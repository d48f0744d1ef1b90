"""The date and datetime filters' "short" format written directly (issue 15's throughput):
the same text as Babel's formatter with the patterns they used (dd/MM/yyyy or MM/dd/yyyy,
then HH:mm), a datetime moved to the user's time zone as Flask-Babel moves it. Structural
(no Babel formatter called for it) and by property; no timings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import flask_babel
import pytest
import pytz
from flask_babel import force_locale, format_date, format_datetime
from hypothesis import given, settings
from hypothesis import strategies as st

from erp import i18n

ZONES = ["America/Sao_Paulo", "UTC", "Asia/Kolkata", "America/New_York", "Pacific/Chatham"]


def old_date(value):
    pattern = "dd/MM/yyyy" if str(flask_babel.get_locale()).startswith("pt") else "MM/dd/yyyy"
    if isinstance(value, datetime):
        return format_datetime(value, pattern)
    return format_date(value, pattern)


def old_datetime(value):
    pattern = "dd/MM/yyyy" if str(flask_babel.get_locale()).startswith("pt") else "MM/dd/yyyy"
    return format_datetime(value, pattern + " HH:mm")


def in_zone(app, zone):
    """A request context whose user time zone is ``zone`` (a pytz zone, as Flask-Babel's)."""
    context = app.test_request_context("/")
    context.push()
    flask_babel._get_current_context().babel_tzinfo = pytz.timezone(zone)
    return context


moments = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                 timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3)),
                                            timezone(timedelta(hours=5, minutes=45))])))


@settings(max_examples=300, deadline=None)
@given(moments, st.dates(), st.sampled_from(ZONES), st.sampled_from(["pt_BR", "en", "es"]))
def test_the_same_text_as_babel(app, moment, day, zone, language):
    context = in_zone(app, zone)
    try:
        with force_locale(language):
            assert flask_babel.get_timezone().zone == zone
            assert i18n.date_filter(day) == old_date(day)
            assert i18n.date_filter(moment) == old_date(moment)
            assert i18n.datetime_filter(moment) == old_datetime(moment)
            assert i18n.datetime_filter(day) == old_datetime(day)
    finally:
        context.pop()


def test_across_a_daylight_saving_change(app):
    context = in_zone(app, "America/New_York")
    try:
        start = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
        for minutes in range(0, 6 * 60, 17):
            moment = start + timedelta(minutes=minutes)
            assert i18n.datetime_filter(moment) == old_datetime(moment)
            assert i18n.datetime_filter(moment.replace(tzinfo=None)) == old_datetime(
                moment.replace(tzinfo=None))
    finally:
        context.pop()


def test_the_short_format_calls_no_babel_formatter(app, monkeypatch):
    called = []
    for name in ("format_date", "format_datetime"):
        monkeypatch.setattr(i18n, name, lambda *a, _n=name, **k: called.append(_n))
    with app.test_request_context("/"), force_locale("pt_BR"):
        assert i18n.date_filter(date(2026, 12, 31)) == "31/12/2026"
        assert i18n.date_filter(datetime(2027, 1, 1, 2, 0)) == "31/12/2026"  # São Paulo
        assert i18n.datetime_filter(datetime(2026, 7, 4, 15, 5, tzinfo=UTC)) == \
            "04/07/2026 12:05"
    assert called == []
    with app.test_request_context("/"), force_locale("pt_BR"):
        i18n.date_filter(date(2026, 12, 31), "yyyy")  # another format: Babel's
    assert called == ["format_date"]


@pytest.mark.parametrize("value", [None])
def test_none_is_empty(app, value):
    with app.test_request_context("/"):
        assert i18n.date_filter(value) == i18n.datetime_filter(value) == ""
