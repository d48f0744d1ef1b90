"""The JSON API from a test: a user's token, and a test client sending it."""

from __future__ import annotations

from ..api.tokens import create_token, revoke_token
from ..auth.models import User
from ..db import db

PREFIX = "/api/v1"


def token_for(app, user_id: int, name: str = "tests") -> str:
    """A new API token of the user's (the secret, as the user would copy it)."""
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), name)
        db.session.remove()
    return token


def revoked_token_for(app, user_id: int) -> str:
    """A token of the user's that they have revoked."""
    with app.app_context():
        user = db.session.get(User, user_id)
        row, token = create_token(user, "revoked")
        revoke_token(user, row.id)
        db.session.remove()
    return token


class Api:
    """``client`` with ``Authorization: Bearer <token>`` on every request to /api/v1
    (paths are relative to it: ``api.get("/notes")``)."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(PREFIX + path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json=None, **kwargs):
        return self.request("PUT", path, json=json, **kwargs)

    def patch(self, path: str, json=None, **kwargs):
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def items(self, path: str, **query) -> list[dict]:
        """Every item of a paged list, following ``next_cursor``."""
        items, after = [], None
        while True:
            response = self.get(path, query_string={**query, **({"after": after} if after
                                                                else {})})
            assert response.status_code == 200, response.json
            items += response.json["items"]
            after = response.json["next_cursor"]
            if after is None:
                return items


def api_as(app, client, users: dict, name: str) -> Api:
    """An :class:`Api` speaking as ``users[name]`` (a new token of theirs)."""
    return Api(client, token_for(app, users[name]))


def error_of(response, status: int, code: str | None = None) -> dict:
    """The error body of ``response``, after checking its status, shape and code."""
    assert response.status_code == status, (response.status_code, response.get_data(True))
    assert response.content_type == "application/json"
    error = response.json["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["code"], str)
    if code is not None:
        assert error["code"] == code, error
    return error
