"""Every class of bad input gets a 4xx in the one error shape, never a 500 or a half-written
record: malformed JSON, wrong types, unknown fields, text no database stores, oversized
bodies, bad paging arguments, out-of-range ids, too many requests."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from erp.db import db
from modules.crm.api.errors import field_messages
from modules.crm.models import Account, Opportunity
from tests.crm.api_support import Api, api_as, error_of, token_for

JSON = {"Content-Type": "application/json"}


def _accounts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Account.id)))


@pytest.mark.parametrize("body", ["{not json", '{"legal_name": "X",}', "\xff\xfe", "[1, 2"])
def test_malformed_json_is_400(app, client, users, make_account, body):
    account_id = make_account("rep_a")
    api = api_as(app, client, users, "rep_a")
    for method, path in (("POST", "/accounts"), ("PATCH", f"/accounts/{account_id}"),
                         ("POST", "/actions")):
        response = api.request(method, path, data=body.encode("latin-1"), headers=JSON)
        error_of(response, 400, "malformed_body")
    assert _accounts(app) == 1


@pytest.mark.parametrize(("body", "fields"), [
    ({"legal_name": 5}, {"legal_name"}),
    ({"legal_name": "X", "priority": "yes"}, {"priority"}),
    ({"legal_name": "X", "priority": 1}, {"priority"}),
    ({"legal_name": "X", "owner_id": "3"}, {"owner_id"}),
    ({"legal_name": "X", "owner_id": True}, {"owner_id"}),
    ({"legal_name": "X", "owner_id": 1.5}, {"owner_id"}),
    ({"legal_name": "X", "tag_ids": "1"}, {"tag_ids"}),
    ({"legal_name": "X", "tag_ids": [0]}, {"tag_ids"}),
    ({"legal_name": "X", "opened_on": "31/12/2026"}, {"opened_on"}),
    ({"legal_name": "X", "lifecycle": "lead"}, {"lifecycle"}),
    ({"legal_name": None}, {"legal_name"}),
    ({"legal_name": "X" * 201}, {"legal_name"}),
    ({"legal_name": "X", "category_id": 2**31}, {"category_id"}),
    ({"trade_name": "Sem razão social"}, {"legal_name"}),
])
def test_wrong_types_are_422_naming_each_field(app, client, users, body, fields):
    response = api_as(app, client, users, "rep_a").post("/accounts", json=body)
    error = error_of(response, 422, "validation_error")
    assert set(error["fields"]) == fields
    assert all(isinstance(m, str) for messages in error["fields"].values() for m in messages)
    assert _accounts(app) == 0


@pytest.mark.parametrize("body", [[], "a string", 42, None])
def test_a_body_that_is_not_an_object_is_422(app, client, users, body):
    response = api_as(app, client, users, "rep_a").request(
        "POST", "/accounts", data=json.dumps(body), headers=JSON)
    assert error_of(response, 422, "validation_error")["fields"] == {
        "_schema": ["Invalid input type."]}


def test_a_body_that_is_not_json_is_refused_not_guessed(app, client, users):
    api = api_as(app, client, users, "rep_a")
    response = api.request("POST", "/accounts", data={"legal_name": "Formulário"})
    assert "legal_name" in error_of(response, 422, "validation_error")["fields"]
    assert _accounts(app) == 0


def test_unknown_fields_are_422_in_the_body_and_the_query(app, client, users, make_account):
    account_id = make_account("rep_a")
    api = api_as(app, client, users, "rep_a")
    body = api.patch(f"/accounts/{account_id}", json={"city": "X", "colour": "red",
                                                      "id": 99, "archived": True})
    assert set(error_of(body, 422, "validation_error")["fields"]) == {"colour", "id",
                                                                       "archived"}
    nested = api.post("/opportunities", json={
        "title": "X", "account_id": account_id,
        "items": [{"description": "a", "total": "10.00"}]})
    assert error_of(nested, 422)["fields"]["items"]["0"].keys() == {"total"}
    query = api.get("/accounts", query_string={"archive": "true"})  # a misspelt filter
    assert set(error_of(query, 422)["fields"]) == {"archive"}
    with app.app_context():
        assert db.session.get(Account, account_id).city is None
        assert db.session.scalar(select(func.count(Opportunity.id))) == 0


@pytest.mark.parametrize("text", ["nul\x00inside", "lone \ud800 surrogate"])
def test_text_no_database_can_store_is_422(app, client, users, text):
    api = api_as(app, client, users, "rep_a")
    body = json.dumps({"legal_name": text})  # ensure_ascii: the surrogate travels escaped
    response = api.request("POST", "/accounts", data=body, headers=JSON)
    assert "legal_name" in error_of(response, 422)["fields"]
    search = api.get("/accounts", query_string={"q": "a\x00b"})
    assert "q" in error_of(search, 422)["fields"]
    assert _accounts(app) == 0


@pytest.mark.parametrize("query", [
    {"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"limit": -1}, {"after": "abc"},
    {"after": "-1"}, {"after": "1" * 19}, {"archived": "maybe"}, {"owner_id": "x"},
    {"owner_id": 2**31}, {"lifecycle": "lead"},
])
def test_bad_list_arguments_are_422(app, client, users, query):
    response = api_as(app, client, users, "rep_a").get("/accounts", query_string=query)
    assert set(error_of(response, 422, "validation_error")["fields"]) == set(query)


def test_a_cursor_past_every_id_is_an_empty_page(app, client, users, make_account):
    """(An INTEGER column compared with 3000000000 was a 500 on PostgreSQL.)"""
    account_id = make_account("rep_a")
    api = api_as(app, client, users, "rep_a")
    for after in ("3000000000", "9" * 18):
        for path in ("/accounts", "/contacts", "/opportunities", "/actions",
                     f"/accounts/{account_id}/contacts"):
            page = api.get(path, query_string={"after": after})
            assert page.status_code == 200, (path, page.json)
            assert page.json == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("path", ["/accounts/99999999999", "/accounts/-1", "/accounts/abc",
                                  "/opportunities/2147483648/won", "/actions/1e3"])
def test_ids_out_of_range_or_not_numbers_are_404(app, client, users, path):
    api = api_as(app, client, users, "rep_a")
    method = "POST" if path.endswith("/won") else "GET"
    error_of(api.request(method, path), 404, "not_found")


def test_oversized_bodies_are_413(make_app, users):
    app = make_app(API_MAX_BODY_BYTES=2048)
    client = app.test_client()
    api = Api(client, token_for(app, users["rep_a"]))
    response = api.post("/accounts", json={"legal_name": "X", "notes": "n" * 5000})
    error_of(response, 413, "body_too_large")
    assert api.post("/accounts", json={"legal_name": "X", "notes": "n" * 500}).status_code == 201


def test_too_many_requests_are_429_per_token(make_app, users):
    app = make_app(API_RATE_LIMIT="5 per minute")
    client = app.test_client()
    first = Api(client, token_for(app, users["rep_a"]))
    second = Api(client, token_for(app, users["manager"]))
    codes = [first.get("/accounts").status_code for _n in range(6)]
    assert codes == [200] * 5 + [429]
    limited = first.post("/accounts", json={"legal_name": "Não entra"})
    error_of(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    assert second.get("/accounts").status_code == 200  # another token, its own budget
    with app.app_context():
        assert db.session.scalar(select(func.count(Account.id))) == 0


@pytest.mark.parametrize("order", [1, -1])
def test_messages_on_a_list_and_on_its_items_both_reach_the_body(order):
    """A service may fault a list as a whole and one of its items in the same request, in
    either order (the API fuzz found the whole-list message after an item's: a 500)."""
    errors = dict(list({"emails": ["Too many e-mails."],
                        "emails-0-address": ["Not an e-mail address."]}.items())[::order])
    assert field_messages(errors) == {"emails": {
        "_schema": ["Too many e-mails."], "0": {"address": ["Not an e-mail address."]}}}
