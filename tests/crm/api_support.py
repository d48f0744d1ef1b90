"""Helpers for the CRM API tests: a test client speaking with one user's token."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from erp.api.tokens import create_token, revoke_token
from erp.auth.models import User
from erp.db import db

PREFIX = "/api/v1"


def token_for(app, user_id: int, name: str = "tests") -> str:
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


def deactivate(app, user_id: int) -> None:
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
        db.session.remove()


class Api:
    """``client`` with ``Authorization: Bearer <token>`` on every request to /api/v1."""

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


@contextmanager
def count_queries(app):
    """The SQL statements run meanwhile (on the app's engine), as a list."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
