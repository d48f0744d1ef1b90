"""Migration 0006_auth_security on a database that already has users."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db

USERS = ("INSERT INTO auth_user (id, username, email, name, password_hash, active, created_at,"
         " updated_at) VALUES (:id, :name, :email, :name, '!', :active, :at, :at)")


def test_existing_users_get_a_token_each_and_the_way_back_works(make_app, empty_database_url):  # noqa: F811
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        flask_migrate.upgrade(revision="0005_import_undo")
        with db.engine.begin() as conn:
            for user_id, active in ((1, True), (2, False)):
                conn.execute(text(USERS), {"id": user_id, "name": f"u{user_id}",
                                           "email": f"u{user_id}@example.com",
                                           "active": active, "at": "2026-01-01 00:00:00"})
        flask_migrate.upgrade(revision="0006_auth_security")
        with db.engine.connect() as conn:
            tokens = conn.execute(text("SELECT session_token FROM auth_user")).scalars().all()
        assert len(tokens) == len(set(tokens)) == 2 and all(len(t) == 32 for t in tokens)
        tables = set(inspect(db.engine).get_table_names())
        assert "auth_login_attempt" in tables and "auth_login_failure" not in tables

        flask_migrate.downgrade(revision="0005_import_undo")
        inspector = inspect(db.engine)
        assert "session_token" not in {c["name"] for c in inspector.get_columns("auth_user")}
        assert "auth_login_failure" in inspector.get_table_names()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM auth_user")).scalar() == 2
        db.engine.dispose()
