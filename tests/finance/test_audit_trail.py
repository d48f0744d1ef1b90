"""Finance's audited records — receivables and payments: creation, change and deletion
leave entries with the right user and values; the receivable's page shows its History
and its payments' (a payment has no page of its own) to those who see it."""

from __future__ import annotations

from sqlalchemy import select

from erp.audit import AuditEntry, acting_as
from erp.auth.models import User
from erp.db import db
from modules.finance.models import Payment, Receivable
from tests.conftest import csrf_token, login_as


def entries(table: str, record_id: int) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(
        AuditEntry.table_name == table, AuditEntry.record_id == str(record_id))
        .order_by(AuditEntry.id)).all()


def test_a_receivable_and_its_payment_on_the_web(app, client, users, make_account,
                                                 make_receivables):
    account = make_account(owner="rep_a")
    login_as(client, users["finance"])
    url = f"/finance/receivables/new?account_id={account}"
    response = client.post(url, data={"csrf_token": csrf_token(client, url),
                                      "document": "Contrato 9", "amount": "300,00",
                                      "due_date": "10/12/2030", "installments": "2"})
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        receivable_id, second_id = db.session.scalars(
            select(Receivable.id).order_by(Receivable.id)).all()
    page = f"/finance/receivables/{receivable_id}"
    response = client.post(f"{page}/payments", data={
        "csrf_token": csrf_token(client, page), "date": "", "amount": "120,00",
        "method": "boleto"})
    assert response.status_code == 303, response.get_data(as_text=True)
    second = f"/finance/receivables/{second_id}"
    response = client.post(f"{second}/cancel", data={"csrf_token": csrf_token(client, second)})
    assert response.status_code == 303
    with app.app_context():
        payment_id = db.session.scalar(select(Payment.id))
        (create,) = entries("finance_receivable", receivable_id)
        assert (create.action, create.user_id, create.user_name) == (
            "create", users["finance"], "Finance")
        assert create.changes["amount"] == [None, "150.00"]
        assert create.changes["due_date"] == [None, "2030-12-10"]
        (paid,) = entries("finance_payment", payment_id)
        assert (paid.action, paid.user_name) == ("create", "Finance")
        assert paid.changes["amount"] == [None, "120.00"]
        assert (paid.parent_table, paid.parent_id) == ("finance_receivable",
                                                       str(receivable_id))
        _created, cancelled = entries("finance_receivable", second_id)
        assert (cancelled.action, cancelled.user_name) == ("update", "Finance")
        assert cancelled.changes["cancelled"] == ["false", "true"]
    # The receivable's History lists its payment too, with labels and coded values.
    html = client.get(page).get_data(as_text=True)
    assert 'id="history"' in html
    assert "Payment" in html and "Boleto" in html and "Payment date" in html
    assert "Due date" in html and "Contrato 9" in html
    html = client.get(second).get_data(as_text=True)
    assert "Cancelled" in html and "Yes" in html
    # A sales manager sees rep_a's account (his team), not rep_c's: no page, no history.
    other = make_account(owner="rep_c", legal_name="Outro Time")
    (theirs,) = make_receivables(other, document="Invisível")
    login_as(client, users["manager"])
    assert client.get(page).status_code == 200
    assert client.get(f"/finance/receivables/{theirs}").status_code == 404


def test_deleted_payments_and_receivables_keep_their_entries(app, users, make_account,
                                                            make_receivables, pay):
    account = make_account()
    (receivable_id,) = make_receivables(account, document="Contrato 10", amount="50,00")
    payment_id = pay(receivable_id, "50,00")
    with app.app_context():
        with acting_as(db.session.get(User, users["admin"])):
            db.session.delete(db.session.get(Payment, payment_id))
            db.session.flush()
            db.session.delete(db.session.get(Receivable, receivable_id))
            db.session.commit()
        payment_delete = entries("finance_payment", payment_id)[-1]
        assert (payment_delete.action, payment_delete.user_name) == ("delete", "Admin")
        assert payment_delete.changes["amount"] == ["50.00", None]
        assert payment_delete.changes["method"] == ["pix", None]
        assert payment_delete.parent_id == str(receivable_id)
        receivable_delete = entries("finance_receivable", receivable_id)[-1]
        assert receivable_delete.action == "delete"
        assert receivable_delete.record_label == "Contrato 10"
        # The fixtures ran outside a request and any acting_as: the system made them.
        first = entries("finance_receivable", receivable_id)[0]
        assert (first.action, first.user_id) == ("create", None)
