"""Sales 0004 (issue 18): products, quotes, orders and invoices get a ``version`` (the API's
ETag), 1 for the existing rows, grown by every save; the way back drops it, rows kept."""

from __future__ import annotations

from datetime import date

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from tests.conftest import make_user

BEFORE, AFTER = "0003_sales_erp_sequence", "0004_sales_version"
TABLES = ("sales_product", "sales_quote", "sales_order", "sales_invoice")


def columns(table: str) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def test_existing_documents_start_at_version_1_and_the_way_back_drops_it(
        make_app, empty_database_url):
    from modules.crm.models import Account
    from modules.sales.models import Order, Product

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "crm@head", BEFORE):
            flask_migrate.upgrade(revision=revision)
        user = make_user("migrator", [])
        db.session.flush()
        account = Account(legal_name="Migrada Ltda.", owner_id=user.id)
        db.session.add(account)
        db.session.commit()
        ids = {"a": account.id, "u": user.id, "d": date(2026, 11, 1)}
        db.session.remove()  # no read snapshot (SQLite) kept from before the migration
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO sales_product (code, name, kind, price, active, created_at,"
                " updated_at) VALUES ('P-1', 'Cabo', 'product', 10, true, :d, :d)"), ids)
            conn.execute(text(
                "INSERT INTO sales_order (number, account_id, user_id, status, order_date,"
                " total, created_at, updated_at) VALUES (1, :a, :u, 'confirmed', :d, 0,"
                " :d, :d)"), ids)
        assert all("version" not in columns(table) for table in TABLES)

        flask_migrate.upgrade(revision=AFTER)
        assert all("version" in columns(table) for table in TABLES)
        product = db.session.query(Product).one()
        order = db.session.query(Order).one()
        assert (product.version, order.version) == (1, 1)
        product.price, order.status = 12, "delivered"
        db.session.commit()
        assert (product.version, order.version) == (2, 2)
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        assert all("version" not in columns(table) for table in TABLES)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM sales_order")).scalar() == "delivered"
            assert conn.execute(text("SELECT count(*) FROM sales_product")).scalar() == 1
        db.session.remove()
        db.engine.dispose()
