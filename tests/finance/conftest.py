"""Finance fixtures: accounts (borrowed from CRM's fixtures) and receivables made through
finance's services or through the invoice signals, as sales and service would send them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import blinker
import pytest

from erp.auth.models import User
from erp.db import db
from tests.crm import conftest as crm_fixtures

make_opportunity = crm_fixtures.make_opportunity
pipeline = crm_fixtures.pipeline

TODAY = date(2026, 11, 23)  # a Monday


class Invoice:
    """What a sender would pass as ``sender``: finance never looks at it."""

    def __init__(self, ident: int):
        self.id = ident


def issue(name: str = "sales", *, account_id: int, origin_id: int = 1,
          document: str = "NF 000123", issue_date: date = date(2026, 10, 1),
          installments=((date(2026, 11, 1), "100.00"),), user=None):
    """Send ``<name>.invoice_issued`` as the contract says (inside an app context)."""
    return blinker.signal(f"{name}.invoice_issued").send(
        Invoice(origin_id), account_id=account_id, document=document,
        origin=f"{name}.invoice", origin_id=origin_id, issue_date=issue_date,
        installments=[(due, Decimal(amount)) for due, amount in installments], user=user)


def cancel(name: str = "sales", *, origin_id: int = 1, user=None):
    return blinker.signal(f"{name}.invoice_cancelled").send(
        Invoice(origin_id), origin=f"{name}.invoice", origin_id=origin_id, user=user)


@pytest.fixture
def make_receivables(app, users):
    """Receivables by hand through the service; returns their ids."""
    from modules.crm.models import Account
    from modules.finance.services import create_receivables

    def factory(account_id: int, *, today: date = TODAY, **data):
        data.setdefault("document", "Contrato 7")
        data.setdefault("due_date", date(2026, 12, 10))
        data.setdefault("amount", "300,00")
        with app.app_context():
            user = db.session.get(User, users["finance"])
            account = db.session.get(Account, account_id)
            ids = [r.id for r in create_receivables(account, data, user=user, today=today)]
            db.session.remove()
        return ids

    return factory


@pytest.fixture
def pay(app, users):
    """Record a payment through the service; returns its id."""
    from modules.finance.models import Receivable
    from modules.finance.services import record_payment

    def factory(receivable_id: int, amount, *, on: date = TODAY, method: str = "pix",
                today: date = TODAY):
        with app.app_context():
            user = db.session.get(User, users["finance"])
            receivable = db.session.get(Receivable, receivable_id)
            payment = record_payment(receivable, {"amount": amount, "date": on,
                                                  "method": method}, user=user, today=today)
            payment_id = payment.id
            db.session.remove()
        return payment_id

    return factory
