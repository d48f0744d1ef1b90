"""The API's host side beyond tokens (tests/erp/test_api_tokens.py): no CSRF with a token,
the token's user (never the session's), JSON errors under /api and HTML elsewhere, the
OpenAPI document. Through the example Notes module's API, as a third party would use it.
"""

from __future__ import annotations

import schemathesis

from erp.api.tokens import create_token
from erp.auth.models import User
from erp.db import db
from modules.crm.services.accounts import create_account
from tests.conftest import login_as


def _token_for(app, user_id: int) -> str:
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), "host tests")
        db.session.remove()
    return token


def _account(app, owner_id: int) -> int:
    with app.app_context():
        # One "Acme" per owner: the similar name is confirmed, as a user would.
        account_id = create_account({"legal_name": "Acme"}, user=db.session.get(
            User, owner_id), confirm_duplicates=True).id
        db.session.remove()
    return account_id


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_needs_no_csrf_token_though_forms_do(app, client, users):
    assert app.config.get("WTF_CSRF_ENABLED", True)  # the forms' protection is on
    account_id = _account(app, users["rep_a"])
    response = client.post("/api/v1/notes", json={"account_id": account_id, "body": "Oi"},
                           headers=_bearer(_token_for(app, users["rep_a"])))
    assert response.status_code == 201, response.json
    login_as(client, users["rep_a"])
    form = client.post("/auth/api-tokens/", data={"name": "no csrf"})
    assert form.status_code == 400  # the same client, without the token: CSRF applies


def test_the_token_decides_the_user_not_the_session(app, client, users):
    """A browser session of someone else rides along: the API still acts as the token's
    user (and a session alone opens nothing, tested with the tokens)."""
    mine = _account(app, users["rep_a"])
    theirs = _account(app, users["rep_c"])
    login_as(client, users["rep_c"])
    token = _token_for(app, users["rep_a"])
    hidden = client.post("/api/v1/notes", json={"account_id": theirs, "body": "x"},
                         headers=_bearer(token))
    assert hidden.status_code == 404
    created = client.post("/api/v1/notes", json={"account_id": mine, "body": "x"},
                          headers=_bearer(token))
    assert created.status_code == 201
    posted_without_token = client.post("/api/v1/notes", json={"account_id": theirs,
                                                              "body": "x"})
    assert posted_without_token.status_code == 401


def test_api_errors_are_json_and_pages_keep_html(app, client, users):
    token = _token_for(app, users["rep_a"])
    missing = client.get("/api/v1/no-such-thing", headers=_bearer(token))
    assert missing.status_code == 404 and missing.content_type == "application/json"
    assert missing.json["error"]["code"] == "not_found"
    # Authentication comes first: no token, no hint of which paths exist.
    assert client.get("/api/v1/no-such-thing").status_code == 401
    login_as(client, users["rep_a"])
    page = client.get("/crm/accounts/999999")
    assert page.status_code == 404 and page.content_type.startswith("text/html")
    forbidden = client.get("/admin/")
    assert forbidden.status_code in (302, 403)
    assert not forbidden.content_type.startswith("application/json")


def test_a_wrong_method_is_405_with_allow(app, client, users):
    response = client.put("/api/v1/notes", json={}, headers=_bearer(
        _token_for(app, users["rep_a"])))
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_the_openapi_document_is_public_and_valid_openapi_3(client):
    response = client.get("/api/v1/openapi.json")  # no token needed to read the docs
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(spec).validate()  # raises on an invalid document
    assert spec["security"] == [{"bearerAuth": []}]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            # Every operation documents the error shape for the statuses it does not list.
            assert operation["responses"]["default"] == {
                "$ref": "#/components/responses/DEFAULT_ERROR"}, (method, path)
