"""Sales' audited records — quotes, orders, invoices: creation, change and deletion leave
entries with the right user and values; each document's page shows its History to those
who see it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from erp.audit import AuditEntry, acting_as
from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account
from modules.sales import services
from modules.sales.models import Invoice, Order, Quote
from tests.conftest import csrf_token, login_as
from tests.sales.support import users_today

TODAY = users_today()  # the users' today, as the services count it


def entries(table: str, record_id: int) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(
        AuditEntry.table_name == table, AuditEntry.record_id == str(record_id))
        .order_by(AuditEntry.id)).all()


def quote_form(client, url: str, quantity: str, **extra) -> dict:
    return {"csrf_token": csrf_token(client, url),
            "valid_until": (TODAY + timedelta(days=30)).isoformat(),
            "lines-0-description": "Consultoria", "lines-0-quantity": quantity,
            "lines-0-unit_price": "100,00", "lines-0-discount": "0", **extra}


def test_a_quote_created_and_changed_on_the_web_then_deleted_by_an_admin(app, client, users,
                                                                        account):
    login_as(client, users["rep_a"])
    url = f"/sales/quotes/new?account_id={account}"
    assert client.post(url, data=quote_form(client, url, "2")).status_code == 303
    with app.app_context():
        quote_id = db.session.scalar(select(Quote.id))
    url = f"/sales/quotes/{quote_id}/edit"
    response = client.post(url, data=quote_form(client, url, "3", notes="Urgente"))
    assert response.status_code == 303
    with app.app_context():
        create, *updates = entries("sales_quote", quote_id)
        assert (create.action, create.user_id) == ("create", users["rep_a"])
        assert create.changes["total"] == [None, "200.00"]
        assert create.changes["status"] == [None, "draft"]
        # The service flushes twice (the fields, then the lines): an entry per flush.
        assert {(e.action, e.user_name) for e in updates} == {("update", "Rep_A")}
        assert {k: v for e in updates for k, v in e.changes.items()} == {
            "notes": [None, "Urgente"], "total": ["200.00", "300.00"]}
    html = client.get(f"/sales/quotes/{quote_id}").get_data(as_text=True)
    assert 'id="history"' in html and "Urgente" in html and "Draft" in html
    # The page links keep the query, not url_for's options smuggled into it.
    with app.app_context():
        for n in range(25):
            db.session.get(Quote, quote_id).notes = f"Nota {n}"
            db.session.commit()
    hostile = client.get(f"/sales/quotes/{quote_id}?_external=1&_scheme=javascript"
                         "&_anchor=x&x=1").get_data(as_text=True)
    assert f'href="/sales/quotes/{quote_id}?x=1&amp;history_page=2#history"' in hostile
    assert "javascript" not in hostile
    assert "Notes" in html and "Total" in html and "300.00" in html
    login_as(client, users["rep_c"])
    assert client.get(f"/sales/quotes/{quote_id}").status_code == 404
    # Changed in Administration → Quotes (notes only), then deleted (no page deletes a
    # quote: a command or the database console would): each entry names its user.
    login_as(client, users["admin"])
    url = f"/admin/sales_quote/edit/?id={quote_id}"
    response = client.post(url, data={"notes": "Revisada", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    with app.app_context():
        with acting_as(db.session.get(User, users["manager"])):
            db.session.delete(db.session.get(Quote, quote_id))
            db.session.commit()
        assert db.session.get(Quote, quote_id) is None
        *_before, admin_edit, delete = entries("sales_quote", quote_id)
        assert (admin_edit.user_id, admin_edit.changes) == (
            users["admin"], {"notes": ["Nota 24", "Revisada"]})
        assert (delete.action, delete.user_id, delete.user_name) == (
            "delete", users["manager"], "Manager")
        assert delete.changes["total"] == ["300.00", None]
        assert delete.changes["notes"] == ["Revisada", None]
        assert delete.record_label.startswith("PR ")


def test_an_order_and_its_invoice_through_their_lives(app, client, users, account, as_user):
    with app.app_context():
        rep = as_user("rep_a")
        with acting_as(rep):
            order = services.create_order(db.session.get(Account, account), {
                "lines": [{"description": "Servidor", "quantity": "1",
                           "unit_price": "1.500,00", "discount": "0"}]}, user=rep)
            invoice = services.issue_invoice(order, {
                "issue_date": TODAY.isoformat(), "installments": "1",
                "first_due_date": (TODAY + timedelta(days=30)).isoformat()}, user=rep)
            services.cancel_invoice(invoice, user=rep)
            services.cancel_order(order, user=rep)
        order_id, invoice_id = order.id, invoice.id
        order_create, *order_changes = entries("sales_order", order_id)
        assert order_create.changes["total"] == [None, "1500.00"]
        assert order_changes[-1].changes["status"] == ["confirmed", "cancelled"]
        invoice_create, invoice_cancel = entries("sales_invoice", invoice_id)
        assert invoice_create.changes["status"] == [None, "issued"]
        assert invoice_create.changes["order_id"] == [None, str(order_id)]
        assert invoice_cancel.changes["status"] == ["issued", "cancelled"]
        assert invoice_cancel.changes["cancelled_at"][0] is None
        assert {e.user_name for e in [order_create, invoice_create, invoice_cancel]} == {"Rep_A"}
    login_as(client, users["rep_a"])
    for url, label in ((f"/sales/orders/{order_id}", "Order date"),
                       (f"/sales/invoices/{invoice_id}", "Issue date")):
        html = client.get(url).get_data(as_text=True)
        assert 'id="history"' in html and label in html and "Cancelled" in html, url
        assert "1,500.00" in html, url
    login_as(client, users["rep_c"])
    assert client.get(f"/sales/orders/{order_id}").status_code == 404
    assert client.get(f"/sales/invoices/{invoice_id}").status_code == 404
    with app.app_context():
        with acting_as(as_user("manager")):
            db.session.delete(db.session.get(Invoice, invoice_id))
            db.session.flush()
            db.session.delete(db.session.get(Order, order_id))
            db.session.commit()
        for table, record_id in (("sales_invoice", invoice_id), ("sales_order", order_id)):
            delete = entries(table, record_id)[-1]
            assert (delete.action, delete.user_name) == ("delete", "Manager")
            assert delete.changes["status"] == ["cancelled", None]
