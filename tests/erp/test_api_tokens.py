"""API tokens: the preferences page that makes and revokes them, and what a token opens.

The API routes used here are the example Notes module's (examples/notes/mosaic_notes/api.py),
so the host is tested through a module's contribution, as any third party would use it.
"""

from __future__ import annotations

import re

import pytest

from erp.api.models import ApiToken
from erp.api.tokens import create_token, hash_token
from erp.auth.models import User
from erp.db import db
from modules.crm.services.accounts import create_account
from tests.conftest import csrf_token, login_as

TOKENS_URL = "/auth/api-tokens/"
TOKEN_RE = re.compile(r'id="new-token" value="(mos_[A-Za-z0-9_-]+)"')


def _token_for(app, user_id: int, name: str = "test") -> str:
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), name)
        db.session.remove()
    return token


def _account(app, owner_id: int) -> int:
    with app.app_context():
        user = db.session.get(User, owner_id)
        # One "Acme" per owner: the similar name is confirmed, as a user would.
        account_id = create_account({"legal_name": "Acme"}, user=user,
                                    confirm_duplicates=True).id
        db.session.remove()
    return account_id


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_the_tokens_page_needs_a_login(client):
    response = client.get(TOKENS_URL)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_a_token_is_shown_once_and_stored_only_as_a_hash(app, client, users):
    login_as(client, users["rep_a"])
    response = client.post(TOKENS_URL, data={"name": "Website forms",
                                             "csrf_token": csrf_token(client, TOKENS_URL)})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    token = TOKEN_RE.search(response.get_data(as_text=True)).group(1)
    with app.app_context():
        row = db.session.scalars(db.select(ApiToken)).one()
        assert row.name == "Website forms" and row.user_id == users["rep_a"]
        assert row.token_hash == hash_token(token) and token not in (row.token_hash, row.prefix)
        assert token.startswith(row.prefix)
    listing = client.get(TOKENS_URL).get_data(as_text=True)
    assert token not in listing
    assert f"{row.prefix}…" in listing and "Website forms" in listing


def test_a_token_needs_a_name(app, client, users):
    login_as(client, users["rep_a"])
    response = client.post(TOKENS_URL, data={"name": "  ", "csrf_token": csrf_token(
        client, TOKENS_URL)})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0


def test_the_form_checks_csrf(app, client, users):
    login_as(client, users["rep_a"])
    assert client.post(TOKENS_URL, data={"name": "x"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0


def test_a_token_opens_the_api_as_its_user_until_revoked(app, client, users):
    account_id = _account(app, users["rep_a"])
    token = _token_for(app, users["rep_a"])
    created = client.post("/api/v1/notes", json={"account_id": account_id, "body": "Called"},
                          headers=_bearer(token))
    assert created.status_code == 201, created.json
    listed = client.get(f"/api/v1/notes?account_id={account_id}", headers=_bearer(token))
    assert [n["body"] for n in listed.json["items"]] == ["Called"]
    with app.app_context():
        row = db.session.scalars(db.select(ApiToken)).one()
        assert row.last_used_at is not None

    login_as(client, users["rep_a"])
    revoked = client.post(f"{TOKENS_URL}{row.id}/revoke",
                          data={"csrf_token": csrf_token(client, TOKENS_URL)})
    assert revoked.status_code == 302
    client.delete_cookie("session")
    after = client.get("/api/v1/notes", headers=_bearer(token))
    assert after.status_code == 401
    assert after.json["error"]["code"] == "token_invalid"
    login_as(client, users["rep_a"])
    assert "Revoked" in client.get(TOKENS_URL).get_data(as_text=True)


def test_nobody_revokes_another_users_token(app, client, users):
    token = _token_for(app, users["rep_b"])
    with app.app_context():
        token_id = db.session.scalars(db.select(ApiToken.id)).one()
    login_as(client, users["rep_a"])
    response = client.post(f"{TOKENS_URL}{token_id}/revoke",
                           data={"csrf_token": csrf_token(client, TOKENS_URL)})
    assert response.status_code == 404
    assert client.get("/api/v1/notes", headers=_bearer(token)).status_code == 200


def test_an_inactive_users_token_is_refused(app, client, users):
    token = _token_for(app, users["rep_a"])
    with app.app_context():
        db.session.get(User, users["rep_a"]).active = False
        db.session.commit()
    response = client.get("/api/v1/notes", headers=_bearer(token))
    assert response.status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz",
                                    "Bearer mos_" + "x" * 43])
def test_a_missing_or_bad_token_is_401_json(client, users, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/notes", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] in {"token_missing", "token_invalid"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_session_cookie_alone_does_not_open_the_api(client, users):
    login_as(client, users["rep_a"])
    assert client.get("/api/v1/notes").status_code == 401


def test_record_scope_and_permission_apply_to_the_api(app, client, users):
    mine = _account(app, users["rep_a"])
    other_team = _account(app, users["rep_c"])
    token = _token_for(app, users["rep_a"])
    hidden = client.post("/api/v1/notes", json={"account_id": other_team, "body": "x"},
                         headers=_bearer(token))
    assert hidden.status_code == 404
    assert hidden.json["error"]["code"] == "not_found"
    client.post("/api/v1/notes", json={"account_id": mine, "body": "mine"},
                headers=_bearer(token))
    theirs = _token_for(app, users["rep_c"])
    assert client.get("/api/v1/notes", headers=_bearer(theirs)).json["items"] == []
    no_role = _token_for(app, users["nobody"])
    forbidden = client.get("/api/v1/notes", headers=_bearer(no_role))
    assert forbidden.status_code == 403
    assert forbidden.json["error"]["code"] == "forbidden"


def test_input_errors_name_the_fields(app, client, users):
    account_id = _account(app, users["rep_a"])
    token = _token_for(app, users["rep_a"])
    wrong_type = client.post("/api/v1/notes", json={"account_id": "abc", "body": 3,
                                                    "colour": "red"}, headers=_bearer(token))
    assert wrong_type.status_code == 422
    error = wrong_type.json["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"account_id", "body", "colour"}
    malformed = client.post("/api/v1/notes", data="{not json", headers={
        **_bearer(token), "Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json["error"]["code"] == "malformed_body"
    misspelt_filter = client.get("/api/v1/notes?acount_id=1", headers=_bearer(token))
    assert misspelt_filter.status_code == 422  # not the whole list, unfiltered
    assert "acount_id" in misspelt_filter.json["error"]["fields"]
    service_says_no = client.post("/api/v1/notes", json={"account_id": account_id, "body": " "},
                                  headers=_bearer(token))
    assert service_says_no.status_code == 422
    assert "body" in service_says_no.json["error"]["fields"]


def test_oversized_bodies_are_refused(make_app, users):
    app = make_app(API_MAX_BODY_BYTES=100)
    client = app.test_client()
    token = _token_for(app, users["rep_a"])
    response = client.post("/api/v1/notes", json={"account_id": 1, "body": "x" * 500},
                           headers=_bearer(token))
    assert response.status_code == 413
    assert response.json["error"]["code"] == "body_too_large"


def test_requests_are_rate_limited_per_token(make_app, users):
    app = make_app(API_RATE_LIMIT="3 per minute")
    client = app.test_client()
    first, second = _token_for(app, users["rep_a"]), _token_for(app, users["rep_b"])
    codes = [client.get("/api/v1/notes", headers=_bearer(first)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/v1/notes", headers=_bearer(first))
    assert limited.json["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited.headers
    assert client.get("/api/v1/notes", headers=_bearer(second)).status_code == 200


def test_html_pages_keep_html_errors(client, users):
    login_as(client, users["rep_a"])
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")


def test_the_openapi_document_describes_module_routes_and_errors(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/notes"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["error"]
