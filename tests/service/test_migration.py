"""Service's migrations 0003-0004 on a database with invoices: numbering continues from the
highest numbers, and every invoice's installment count becomes its installment rows,
computed with the one rule (and back)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import flask_migrate
from sqlalchemy import inspect, select, text

from erp.db import db
from erp.documents import next_number
from erp.models import NumberSequence
from tests.sales.test_migration import an_account

ORDER = ("INSERT INTO service_order (number, account_id, description, technician_id, status,"
         " hours, hourly_rate, items_total, hours_total, total, created_by_id, created_at,"
         " updated_at) VALUES (:number, :a, 'x', :u, 'done', 0, 0, :total, 0, :total, :u, :at,"
         " :at)")
INVOICE = ("INSERT INTO service_invoice (number, order_id, account_id, issue_date, due_date,"
           " installments, amount, status, issued_by_id, issued_at) VALUES (:number, :order,"
           " :a, :issued, :due, :count, :amount, :status, :u, :at)")


def test_invoices_get_their_installment_rows_and_numbering_continues(make_app,
                                                                     empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "crm@head", "0002_service_billing"):
            flask_migrate.upgrade(revision=revision)
        user_id, account_id = an_account()
        at = datetime(2026, 12, 1, 12, 0)
        with db.engine.begin() as conn:
            for number, total in ((1, "100.00"), (4, "50.00")):
                conn.execute(text(ORDER), {"number": number, "a": account_id, "u": user_id,
                                           "total": float(total), "at": at})
            order_ids = conn.execute(text("SELECT id FROM service_order ORDER BY number")
                                     ).scalars().all()
            for number, order, count, amount, status in (
                    (1, order_ids[0], 3, "100.00", "cancelled"),
                    (2, order_ids[0], 3, "100.00", "issued"),
                    (3, order_ids[1], 1, "50.00", "issued")):
                conn.execute(text(INVOICE), {
                    "number": number, "order": order, "a": account_id, "u": user_id,
                    "issued": date(2026, 12, 1), "due": date(2027, 1, 31), "count": count,
                    "amount": float(amount), "status": status, "at": at})
            invoice_ids = conn.execute(text("SELECT id FROM service_invoice ORDER BY number")
                                       ).scalars().all()

        flask_migrate.upgrade(revision="0004_service_installments")
        with db.engine.connect() as conn:
            found = conn.execute(text(
                "SELECT invoice_id, position, due_date, amount FROM service_invoice_installment"
                " ORDER BY invoice_id, position")).all()
        three = [(date(2027, 1, 31), Decimal("33.33")), (date(2027, 2, 28), Decimal("33.33")),
                 (date(2027, 3, 31), Decimal("33.34"))]
        expected = [(invoice_ids[0], n, due, amount) for n, (due, amount) in enumerate(three, 1)]
        expected += [(invoice_ids[1], n, due, amount) for n, (due, amount) in enumerate(three, 1)]
        expected += [(invoice_ids[2], 1, date(2027, 1, 31), Decimal("50.00"))]
        assert [(i, p, _date(d), Decimal(str(a)).quantize(Decimal("0.01")))
                for i, p, d, a in found] == expected
        columns = {c["name"] for c in inspect(db.engine).get_columns("service_invoice")}
        assert "installments" not in columns and "due_date" in columns
        assert dict(db.session.execute(select(NumberSequence.key, NumberSequence.last)).all()
                    ) == {"service.order": 4, "service.invoice": 3}
        assert [next_number("service.order"), next_number("service.invoice")] == [5, 4]
        db.session.rollback()
        db.session.remove()

        flask_migrate.downgrade(revision="0002_service_billing")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT installments FROM service_invoice ORDER BY number")
                                ).scalars().all() == [3, 3, 1]
            assert conn.execute(text("SELECT count(*) FROM erp_sequence")).scalar() == 0
        assert "service_invoice_installment" not in inspect(db.engine).get_table_names()
        db.engine.dispose()


def _date(value) -> date:
    """A DATE as SQLite's driver hands it back (text) or PostgreSQL's (a date)."""
    return date.fromisoformat(value) if isinstance(value, str) else value
