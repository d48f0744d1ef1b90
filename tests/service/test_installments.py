"""A service invoice keeps its installments as rows, as a sales invoice does, and finance
makes its receivables from them the same way for both."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from erp.auth.models import User
from erp.db import db
from erp.documents import schedule
from modules.finance.models import Receivable
from modules.service import services
from modules.service.models import ServiceInvoice, ServiceInvoiceInstallment, ServiceOrder


def test_installment_rows_with_the_one_rule_and_finance_reads_them(app, make_order, users,
                                                                   make_account):
    account = make_account(legal_name="Parcelas Ltda.")
    done = make_order(account, status="done", items=[
        {"description": "Visita", "quantity": "1", "unit_price": "200,00"}])
    with app.app_context():
        invoice = services.issue_invoice(
            db.session.get(ServiceOrder, done),
            {"issue_date": "01/12/2026", "due_date": "31/01/2027", "installments": "3"},
            user=db.session.get(User, users["service"]))
        invoice_id = invoice.id
        db.session.remove()
    with app.app_context():
        invoice = db.session.get(ServiceInvoice, invoice_id)
        rows = [(i.position, i.due_date, i.amount) for i in invoice.installments]
        assert rows == [(1, date(2027, 1, 31), Decimal("66.66")),
                        (2, date(2027, 2, 28), Decimal("66.66")),
                        (3, date(2027, 3, 31), Decimal("66.68"))]
        assert invoice.due_date == date(2027, 1, 31)
        assert schedule(invoice.installments) == [(d, a) for _n, d, a in rows]
        receivables = db.session.scalars(
            select(Receivable).where(Receivable.origin == "service.invoice",
                                     Receivable.origin_id == invoice_id)
            .order_by(Receivable.installment)).all()
        assert [(r.installment, r.due_date, r.amount) for r in receivables] == rows
        # The rows go with their invoice (cascade), never on their own.
        assert db.session.scalar(select(db.func.count(ServiceInvoiceInstallment.id))) == 3


def test_invoice_installments_link_to_their_receivables(app, make_order, users, make_account,
                                                        client):
    """Each installment of a service invoice links to its receivable for who may read
    finance, as a sales invoice's do; the service clerk (no finance.read) reads plain text
    (issue 17)."""
    import re

    from tests.conftest import login_as

    account = make_account(legal_name="Parcelas Ltda.")
    done = make_order(account, status="done", items=[
        {"description": "Visita", "quantity": "1", "unit_price": "300,00"}])
    with app.app_context():
        invoice = services.issue_invoice(
            db.session.get(ServiceOrder, done),
            {"issue_date": "01/12/2026", "due_date": "31/01/2027", "installments": "3"},
            user=db.session.get(User, users["service"]))
        invoice_id = invoice.id
        db.session.remove()
    detail = f"/service/invoices/{invoice_id}"
    login_as(client, users["finance"])
    html = client.get(detail).get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)" class="receivable-link"', html)
    assert links == [f"/finance/receivables/of/service.invoice/{invoice_id}/{n}"
                     for n in (1, 2, 3)]
    response = client.get(links[2])
    with app.app_context():
        third = db.session.scalar(select(Receivable).where(
            Receivable.origin == "service.invoice", Receivable.origin_id == invoice_id,
            Receivable.installment == 3))
        assert third.installment_label == "3/3"
    assert response.status_code == 302
    assert response.location.endswith(f"/finance/receivables/{third.id}")
    assert client.get(response.location).status_code == 200

    login_as(client, users["service"])  # no finance.read: no links
    html = client.get(detail).get_data(as_text=True)
    assert "receivable-link" not in html and "/finance/" not in html.split('id="installments"')[1]
    assert client.get(links[0]).status_code == 403
