"""Host migration 0009 on a database in use: the webhook and calendar-feed tables are added
beside the existing data (users kept), and the way back drops them, leaving the rest."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from tests.conftest import make_user

NEW_TABLES = {"erp_webhook_endpoint", "erp_webhook_delivery", "erp_calendar_feed"}


def test_0009_adds_the_tables_and_the_way_back_drops_them(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url, ERP_MODULES=[])
    with app.app_context():
        flask_migrate.upgrade(revision="0008_erp_sequence")
        assert not NEW_TABLES & set(inspect(db.engine).get_table_names())
        user = make_user("antes", [])
        db.session.commit()
        user_id = user.id
        db.session.remove()

        flask_migrate.upgrade(revision="0009_webhooks_calendar")
        inspector = inspect(db.engine)
        assert set(inspector.get_table_names()) >= NEW_TABLES
        indexes = {i["name"]: i["column_names"]
                   for i in inspector.get_indexes("erp_webhook_delivery")}
        assert indexes["ix_erp_webhook_delivery_status_next_attempt_at"] == [
            "status", "next_attempt_at"]
        assert indexes["ix_erp_webhook_delivery_endpoint_id_id"] == ["endpoint_id", "id"]
        with db.engine.begin() as conn:  # usable at once, by the user that was there
            conn.execute(text(
                "INSERT INTO erp_calendar_feed (user_id, token_hash, prefix, created_at)"
                " VALUES (:user, :hash, 'abc', CURRENT_TIMESTAMP)"),
                {"user": user_id, "hash": "0" * 64})

        flask_migrate.downgrade(revision="0008_erp_sequence")
        tables = set(inspect(db.engine).get_table_names())
        assert not NEW_TABLES & tables and "auth_user" in tables
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM auth_user")).scalar() == 1
        flask_migrate.upgrade(revision="0009_webhooks_calendar")
        assert set(inspect(db.engine).get_table_names()) >= NEW_TABLES
        db.session.remove()
        db.engine.dispose()
