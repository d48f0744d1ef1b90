"""Sales' migration 0003 on a database with documents: the numbers reached move to the
host's sequences (numbering continues), and the way back restores ``sales_sequence``."""

from __future__ import annotations

from datetime import date

import flask_migrate
from sqlalchemy import inspect, select, text

from erp.db import db
from erp.documents import next_number
from erp.models import NumberSequence
from tests.conftest import make_user


def an_account() -> tuple[int, int]:
    """A user and an account (their branches are at head): (user id, account id)."""
    from modules.crm.models import Account

    user = make_user("migrator", [])
    db.session.flush()
    account = Account(legal_name="Migrada Ltda.", owner_id=user.id)
    db.session.add(account)
    db.session.commit()
    ids = user.id, account.id
    db.session.remove()  # no read snapshot (SQLite) kept from before the migration
    return ids


def sequences() -> dict[str, int]:
    return dict(db.session.execute(select(NumberSequence.key, NumberSequence.last)).all())


def test_the_numbers_reached_move_to_the_host_sequences(make_app, empty_database_url):  # noqa: F811
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "crm@head", "0002_sales_catalog_permission"):
            flask_migrate.upgrade(revision=revision)
        user_id, account_id = an_account()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO sales_sequence (key, last) VALUES "
                              "('quote', 7), ('order', 4)"))
            # An order numbered past its sequence (entered by hand): the larger one wins.
            conn.execute(text(
                "INSERT INTO sales_order (number, account_id, user_id, status, order_date,"
                " total, created_at, updated_at) VALUES (5, :a, :u, 'confirmed', :d, 0,"
                " :d, :d)"), {"a": account_id, "u": user_id, "d": date(2026, 12, 1)})
        flask_migrate.upgrade(revision="0003_sales_erp_sequence")
        assert sequences() == {"sales.quote": 7, "sales.order": 5}
        assert "sales_sequence" not in inspect(db.engine).get_table_names()
        assert [next_number("sales.quote"), next_number("sales.order"),
                next_number("sales.invoice")] == [8, 6, 1]
        db.session.rollback()

        flask_migrate.downgrade(revision="0002_sales_catalog_permission")
        with db.engine.connect() as conn:
            assert dict(conn.execute(text("SELECT key, last FROM sales_sequence")).all()) == {
                "quote": 7, "order": 5}
        assert sequences() == {}
        db.session.remove()
        db.engine.dispose()
