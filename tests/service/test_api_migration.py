"""Service 0005 (issue 18): service orders and invoices get a ``version`` (the API's
ETag), 1 for the existing rows, grown by every save; the way back drops it, rows kept."""

from __future__ import annotations

from datetime import date

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from tests.conftest import make_user

BEFORE, AFTER = "0004_service_installments", "0005_service_version"
TABLES = ("service_order", "service_invoice")


def columns(table: str) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def test_existing_orders_start_at_version_1_and_the_way_back_drops_it(
        make_app, empty_database_url):
    from modules.crm.models import Account
    from modules.service.models import ServiceOrder

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
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO service_order (number, account_id, description, technician_id,"
                " status, hours, hourly_rate, items_total, hours_total, total, created_by_id,"
                " created_at, updated_at) VALUES (1, :a, 'Instalar', :u, 'open', 0, 0, 0, 0,"
                " 0, :u, :d, :d)"), ids)
        assert all("version" not in columns(table) for table in TABLES)

        flask_migrate.upgrade(revision=AFTER)
        assert all("version" in columns(table) for table in TABLES)
        order = db.session.query(ServiceOrder).one()
        assert order.version == 1
        order.description = "Instalar e configurar"
        db.session.commit()
        assert order.version == 2
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        assert all("version" not in columns(table) for table in TABLES)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT description FROM service_order")).scalar() == (
                "Instalar e configurar")
        db.session.remove()
        db.engine.dispose()
