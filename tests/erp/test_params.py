"""erp.params: integers from the query string, bounded (issue 13); NUL in it is a 400."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from erp.db import MAX_ID
from erp.params import MAX_PAGE, id_arg, int_arg, page_arg, parse_int
from tests.conftest import login_as


@pytest.mark.parametrize(("value", "expected"), [
    ("1", 1), (" 42 ", 42), ("+7", 7), ("-3", -3), (5, 5), (str(MAX_ID), MAX_ID),
    (None, None), ("", None), ("abc", None), ("1.5", None), ("1e3", None), ("0x10", None),
    ("²", None), ("١٢", None), (str(MAX_ID + 1), None), (str(2**63), None), (str(2**64), None),
    (str(-MAX_ID - 1), -MAX_ID - 1), (str(-MAX_ID - 2), None), (str(-(2**63) - 1), None),
    ("9" * 5000, None), (True, None), ([], None),
])
def test_parse_int(value, expected):
    assert parse_int(value) == expected


def test_bounds_and_defaults():
    assert parse_int("0", 9, min=1) == 9
    assert parse_int("11", 9, max=10) == 9
    assert parse_int("-5", min=None, max=None) == -5
    args = MultiDict({"page": str(2**63 - 1), "owner": "12", "tag": "x", "n": "30"})
    assert page_arg(args=args) == 1
    assert page_arg(args=MultiDict({"page": str(MAX_PAGE)})) == MAX_PAGE
    assert page_arg(args=MultiDict({"page": "0"})) == 1
    assert id_arg("owner", args) == 12 and id_arg("tag", args) is None
    assert id_arg("missing", args) is None
    assert int_arg("n", 10, min=1, max=20, args=args) == 10
    assert int_arg("n", 10, min=1, max=50, args=args) == 30


def test_int_arg_reads_the_request_by_default(app):
    with app.test_request_context("/?page=3&account_id=99999999999999999999"):
        assert page_arg() == 3 and id_arg("account_id") is None


def test_nul_in_the_query_string_is_a_400_on_the_web(app, client, users):
    login_as(client, users["rep_a"])
    for url in ("/crm/accounts?q=a%00b", "/search?q=%00", "/crm/accounts?x%00=1",
                "/auth/login?next=%00"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "(NUL)" in response.get_data(as_text=True)
    assert client.get("/crm/accounts?q=a%09b").status_code == 200  # a tab is not refused
