"""The chain across modules: quote → order → invoice → receivables → payments → paid,
and an invoice's cancellation — sales and finance talking only through signals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from erp.auth.models import User
from erp.clock import local_today
from erp.db import db
from erp.errors import InvalidInput
from modules.crm.models import Account
from modules.crm.services.accounts import create_account
from modules.crm.services.contacts import create_contact
from modules.finance import services as finance
from modules.finance.models import PAID, Receivable
from modules.sales import services as sales


@pytest.fixture
def rep_account(app, users):
    with app.app_context():
        account = create_account({"legal_name": "Cadeia Completa Ltda."},
                                 user=db.session.get(User, users["rep_a"]))
        account_id = account.id
        db.session.remove()
    return account_id


def test_quote_to_paid(app, users, rep_account):
    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        today = local_today(rep)  # the services' today, not the server's (UTC) date
        clerk = db.session.get(User, users["finance"])
        account = db.session.get(Account, rep_account)
        quote = sales.create_quote(account, {
            "valid_until": (today + timedelta(days=15)).isoformat(),
            "lines": [{"description": "Licença ERP", "quantity": "3", "unit_price": "1.000,00",
                       "discount": "10"}]}, user=rep)
        assert quote.total == Decimal("2700.00")
        buyer = create_contact({"name": "Compradora", "email": "compras@cadeia.example"},
                               user=rep, account=account, role="Compras")
        sales.send_quote(quote, buyer.id, user=rep)
        order = sales.accept_quote(quote, user=rep)
        invoice = sales.issue_invoice(order, {
            "issue_date": today.isoformat(), "installments": "3",
            "first_due_date": (today + timedelta(days=30)).isoformat()}, user=rep)
        assert db.session.get(Account, rep_account).lifecycle == "customer"

        receivables = db.session.scalars(
            select(Receivable).where(Receivable.origin == "sales.invoice",
                                     Receivable.origin_id == invoice.id)
            .order_by(Receivable.installment)).all()
        assert len(receivables) == 3
        assert sum(r.amount for r in receivables) == invoice.total == Decimal("2700.00")
        assert [r.installment for r in receivables] == [1, 2, 3]

        for receivable in receivables:
            finance.record_payment(receivable, {"amount": str(receivable.amount),
                                                "date": today.isoformat(), "method": "pix"},
                                   user=clerk)
        db.session.expire_all()
        assert {r.status_on(today) for r in receivables} == {PAID}

        # Paid receivables veto the invoice's cancellation; nothing changes.
        with pytest.raises(InvalidInput) as error:
            sales.cancel_invoice(invoice, user=rep)
        assert error.value.errors["__all__"]
        db.session.rollback()
        assert db.session.get(type(invoice), invoice.id).status == "issued"


def test_cancelling_an_unpaid_invoice_cancels_its_receivables(app, users, rep_account):
    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        today = local_today(rep)  # the services' today, not the server's (UTC) date
        account = db.session.get(Account, rep_account)
        order = sales.create_order(account, {"lines": [
            {"description": "Implantação", "quantity": "10", "unit_price": "180"}]}, user=rep)
        invoice = sales.issue_invoice(order, {
            "issue_date": (today - timedelta(days=60)).isoformat(), "installments": "2",
            "first_due_date": (today - timedelta(days=20)).isoformat()}, user=rep)
        receivables = db.session.scalars(select(Receivable).where(
            Receivable.origin_id == invoice.id, Receivable.origin == "sales.invoice")).all()
        assert {r.status_on(today) for r in receivables} == {"overdue", "open"}
        sales.cancel_invoice(invoice, user=rep)
        db.session.expire_all()
        assert {r.status_on(today) for r in receivables} == {"cancelled"}
