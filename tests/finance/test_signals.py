"""Finance hears the invoices of sales and service through their named signals (sent here
by hand: finance must not rely on, nor import, either module)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import blinker
import pytest
from sqlalchemy import func, select

from erp.db import db
from erp.signals import Refused
from modules.finance.models import Payment, Receivable
from modules.finance.signals import on_invoice_issued
from tests.finance.conftest import cancel, issue

THREE = ((date(2026, 11, 1), "333.34"), (date(2026, 12, 1), "333.33"),
         (date(2027, 1, 1), "333.33"))


def receivables(origin_id=None):
    query = select(Receivable).order_by(Receivable.origin, Receivable.installment)
    if origin_id is not None:
        query = query.where(Receivable.origin_id == origin_id)
    return db.session.scalars(query).all()


@pytest.mark.parametrize("module", ["sales", "service"])
def test_an_issued_invoice_makes_one_receivable_per_installment(app, users, make_account,
                                                                module):
    account_id = make_account()
    with app.app_context():
        issue(module, account_id=account_id, origin_id=7, installments=THREE)
        db.session.commit()
        made = receivables()
        assert [(r.document, r.installment, r.installments, r.due_date, r.amount)
                for r in made] == [
            ("NF 000123 1/3", 1, 3, date(2026, 11, 1), Decimal("333.34")),
            ("NF 000123 2/3", 2, 3, date(2026, 12, 1), Decimal("333.33")),
            ("NF 000123 3/3", 3, 3, date(2027, 1, 1), Decimal("333.33"))]
        assert {(r.origin, r.origin_id, r.account_id, r.issue_date) for r in made} == {
            (f"{module}.invoice", 7, account_id, date(2026, 10, 1))}
        assert sum(r.amount for r in made) == Decimal("1000.00")


def test_a_single_installment_keeps_the_document_and_the_acting_user(app, users,
                                                                     make_account):
    from erp.auth.models import User

    account_id = make_account()
    with app.app_context():
        user = db.session.get(User, users["finance"])
        issue(account_id=account_id, user=user)
        db.session.commit()
        (only,) = receivables()
        assert (only.document, only.installment_label, only.created_by_id) == (
            "NF 000123", "1/1", user.id)


def test_the_same_invoice_twice_and_another_app_do_not_duplicate(app, make_app, users,
                                                                 make_account):
    account_id = make_account()
    other = make_app()  # registers finance again: its receivers are connected once
    connected = [receiver for receiver in blinker.signal("sales.invoice_issued").receivers.values()
                 if receiver is on_invoice_issued]
    assert len(connected) == 1
    with other.app_context():
        issue(account_id=account_id, installments=THREE)
        issue(account_id=account_id, installments=THREE)
        db.session.commit()
        assert len(receivables()) == 3
        db.session.remove()


def test_an_app_without_finance_ignores_the_signals(app, make_app, users, make_account):
    account_id = make_account()
    crm_only = make_app(ERP_MODULES=["crm"])
    with crm_only.app_context():
        issue(account_id=account_id)
        db.session.commit()
        assert db.session.scalar(select(func.count(Receivable.id))) == 0
        db.session.remove()


def test_cancelling_the_invoice_cancels_its_unpaid_receivables(app, users, make_account):
    account_id = make_account()
    with app.app_context():
        issue(account_id=account_id, origin_id=1, installments=THREE)
        issue(account_id=account_id, origin_id=2, document="NF 000124")
        issue("service", account_id=account_id, origin_id=1, document="NFS 9")
        db.session.commit()
        cancel(origin_id=1)
        db.session.commit()
        states = {(r.origin, r.document): r.cancelled for r in receivables()}
        assert states == {("sales.invoice", "NF 000123 1/3"): True,
                          ("sales.invoice", "NF 000123 2/3"): True,
                          ("sales.invoice", "NF 000123 3/3"): True,
                          ("sales.invoice", "NF 000124"): False,
                          ("service.invoice", "NFS 9"): False}
        assert all(r.cancelled_at for r in receivables(1) if r.origin == "sales.invoice")
        cancel("service", origin_id=1)
        db.session.commit()
        assert [r.cancelled for r in receivables() if r.origin == "service.invoice"] == [True]


def test_cancelling_an_invoice_with_a_payment_is_refused_and_changes_nothing(
        app, users, make_account, pay):
    account_id = make_account()
    with app.app_context():
        issue(account_id=account_id, installments=THREE)
        db.session.commit()
        first = receivables()[0].id
        db.session.remove()
    pay(first, "10,00")
    with app.app_context():
        with pytest.raises(Refused, match="NF 000123 1/3"):
            cancel(origin_id=1)
        db.session.rollback()  # what the sender does
        assert [r.cancelled for r in receivables()] == [False, False, False]
        assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_bad_installments_are_refused(app, users, make_account):
    account_id = make_account()
    with app.app_context():
        with pytest.raises(Refused):
            issue(account_id=account_id, installments=())
        with pytest.raises(Refused):
            issue(account_id=account_id, installments=((date(2026, 1, 1), "0"),))
        with pytest.raises(Refused):
            issue(account_id=account_id + 1000)
        db.session.rollback()
        assert receivables() == []


def test_finance_imports_neither_sales_nor_service():
    root = Path(__file__).resolve().parents[2] / "modules" / "finance"
    for path in root.rglob("*.py"):
        text = path.read_text()
        imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", text, re.MULTILINE)
        for name in imports:
            assert not re.match(r"(modules\.)?(sales|service)\b", name), (path, name)
