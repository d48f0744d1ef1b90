"""Statements a page runs on every request are built once per process, their values bound
(issue 15's throughput): building a SQLAlchemy statement and its cache key anew cost more
Python than SQLite spent running it. Structural: the same statement object each time, and
the same number of statements; no timings."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from erp.auth import sessions
from erp.auth.models import User
from erp.db import db
from erp.testing import count_queries
from tests.conftest import login_as


@contextmanager
def orm_statements():
    """The statement objects the ORM executes meanwhile, in order."""
    seen = []

    def listen(state):
        seen.append(state.statement)

    event.listen(Session, "do_orm_execute", listen)
    try:
        yield seen
    finally:
        event.remove(Session, "do_orm_execute", listen)


def test_the_signed_in_user_is_read_by_one_statement_built_once(app, client, users):
    login_as(client, users["rep_a"])
    runs = []
    for _ in range(2):
        with orm_statements() as seen, count_queries(app) as sql:
            assert client.get("/search").status_code == 200
        runs.append(([s for s in seen if s is sessions.USER_BY_ID], sql))
    for user_statements, sql in runs:
        assert len(user_statements) == 1  # this very object, not one like it
        assert sum("FROM auth_user" in s for s in sql) == 1


def test_the_prebuilt_user_statement_reads_the_roles_and_refuses_others(app, users):
    with app.test_request_context():
        user = db.session.get(User, users["rep_a"])
        session_id = user.get_id()
        db.session.remove()
        with count_queries(app) as sql:
            loaded = sessions.load_user(session_id)
            assert [role.name for role in loaded.roles]  # read with the user
        assert len([s for s in sql if s.strip().upper() != "BEGIN"]) == 1
        assert loaded.id == users["rep_a"]
        other = db.session.get(User, users["rep_b"])
        assert sessions.load_user(f"{other.id}:{user.session_token}") is None
        db.session.remove()
