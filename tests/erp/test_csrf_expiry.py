"""CSRF tokens expire (issue 13): after ERP_CSRF_TIME_LIMIT (8 h by default) a form is
refused with "the form expired", and a token never outlives its session."""

from __future__ import annotations

import time

from itsdangerous import TimestampSigner

from tests.conftest import PASSWORD, csrf_token, login_as

HOURS = 3600


def _post_after(client, monkeypatch, url, data, seconds: int):
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda self: int(real(self)) + seconds)
    try:
        return client.post(url, data=data)
    finally:
        monkeypatch.setattr(TimestampSigner, "get_timestamp", real)


def test_the_default_limit_is_eight_hours(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 8 * HOURS


def test_a_form_older_than_the_limit_is_refused(app, client, users, monkeypatch):
    login_as(client, users["rep_a"])
    url = "/auth/preferences"
    data = {"csrf_token": csrf_token(client, url), "locale": "en", "timezone": ""}
    late = _post_after(client, monkeypatch, url, data, 8 * HOURS + 60)
    assert late.status_code == 400
    assert "The form expired" in late.get_data(as_text=True)
    in_time = _post_after(client, monkeypatch, url, data, 8 * HOURS - 60)
    assert in_time.status_code == 302


def test_the_limit_is_a_setting(make_app, users):
    app = make_app(WTF_CSRF_TIME_LIMIT=1)
    client = app.test_client()
    login_as(client, users["rep_a"])
    url = "/auth/preferences"
    data = {"csrf_token": csrf_token(client, url), "locale": "en", "timezone": ""}
    time.sleep(2.1)
    assert client.post(url, data=data).status_code == 400


def test_a_token_does_not_outlive_the_session(app, client, users):
    """A token read before signing in is not accepted after: the login starts a new session
    (and a new token)."""
    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login", data={"csrf_token": token, "login": "rep_a",
                                                "password": PASSWORD})
    assert response.status_code == 302
    response = client.post("/auth/preferences",
                           data={"csrf_token": token, "locale": "en", "timezone": ""})
    assert response.status_code == 400 and "The form expired" in response.get_data(as_text=True)
    fresh = csrf_token(client, "/auth/preferences")
    assert fresh != token
    assert client.post("/auth/preferences", data={"csrf_token": fresh, "locale": "en",
                                                  "timezone": ""}).status_code == 302
