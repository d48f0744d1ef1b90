"""Helpers for the CRM API tests: a test client speaking with one user's token (the test
kit's, erp.testing.api), and a user deactivated."""

from __future__ import annotations

from erp.auth.models import User
from erp.db import db
from erp.testing.api import (  # noqa: F401 (re-exported)
    PREFIX,
    Api,
    api_as,
    error_of,
    revoked_token_for,
    token_for,
)
from erp.testing.queries import count_queries  # noqa: F401 (re-exported)


def deactivate(app, user_id: int) -> None:
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
        db.session.remove()
