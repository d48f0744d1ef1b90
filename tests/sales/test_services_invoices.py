"""Sales invoices through the services: issue (installments, the account made a customer,
finance's receivables), cancel; the vetoes of the invoice_issued and invoice_cancelled
signals; every field's validation message; the year's invoiced total; number search."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from erp.db import db
from erp.money import add_months
from modules.crm.models import Account
from modules.finance import services as finance
from modules.finance.models import Receivable
from modules.sales import services
from modules.sales.models import Installment, Invoice, Order, SalesEvent
from tests.sales.support import LATER, TODAY, caught, count, line, refused, vetoed


@pytest.fixture
def acct(ctx, account) -> Account:
    found = db.session.get(Account, account)
    db.session.commit()  # no read transaction left open (see test_services_quotes.acct)
    return found


def new_order(acct, user, price: str = "1.000,00") -> Order:
    return services.create_order(acct, {"lines": [line("Projeto", "1", price)]}, user=user)


def issue(order, user, **data) -> Invoice:
    return services.issue_invoice(order, {"first_due_date": LATER.isoformat(), **data},
                                  user=user)


def installments(invoice_id: int) -> list[tuple[int, date, Decimal]]:
    return [(i.position, i.due_date, i.amount) for i in db.session.scalars(
        select(Installment).where(Installment.invoice_id == invoice_id)
        .order_by(Installment.position))]


# --- issue ----------------------------------------------------------------------------------


def test_an_invoice_splits_the_total_into_monthly_installments_the_last_taking_the_rest(
        acct, as_user):
    rep = as_user()
    order = new_order(acct, rep)
    with caught("sales.invoice_issued") as issued:
        invoice = issue(order, rep, issue_date="15/01/2027", installments="3",
                        first_due_date="31/01/2027")
    assert (invoice.number, invoice.display_number, invoice.status) == (1, "NF 000001",
                                                                        "issued")
    assert (invoice.account_id, invoice.order_id, invoice.user_id) == (acct.id, order.id,
                                                                      rep.id)
    assert (invoice.issue_date, invoice.total, invoice.cancelled_at) == (
        date(2027, 1, 15), Decimal("1000.00"), None)
    assert installments(invoice.id) == [(1, date(2027, 1, 31), Decimal("333.33")),
                                        (2, date(2027, 2, 28), Decimal("333.33")),
                                        (3, date(2027, 3, 31), Decimal("333.34"))]
    [(sender, kwargs)] = issued
    assert sender is invoice
    assert kwargs == {"account_id": acct.id, "document": "NF 000001",
                      "origin": "sales.invoice", "origin_id": invoice.id,
                      "issue_date": date(2027, 1, 15), "user": rep,
                      "installments": [(date(2027, 1, 31), Decimal("333.33")),
                                       (date(2027, 2, 28), Decimal("333.33")),
                                       (date(2027, 3, 31), Decimal("333.34"))]}


def test_issuing_makes_the_account_a_customer_tells_the_timeline_and_finance(acct, as_user):
    rep = as_user()
    assert acct.lifecycle == "prospect"
    invoice = issue(new_order(acct, rep, "100,00"), rep, installments="2")
    assert db.session.get(Account, acct.id).lifecycle == "customer"
    event = db.session.scalars(select(SalesEvent).where(
        SalesEvent.kind == "sales.invoice_issued")).one()
    assert (event.title, event.document_type, event.document_id, event.user_id) == (
        "NF 000001", "invoice", invoice.id, rep.id)
    receivables = db.session.scalars(select(Receivable).order_by(Receivable.due_date)).all()
    assert [(r.amount, r.due_date, r.origin, r.origin_id) for r in receivables] == [
        (Decimal("50.00"), LATER, "sales.invoice", invoice.id),
        (Decimal("50.00"), add_months(LATER, 1), "sales.invoice", invoice.id)]


def test_the_issue_date_defaults_to_today_and_one_installment_is_the_whole(acct, as_user):
    rep = as_user()
    invoice = issue(new_order(acct, rep, "99,99"), rep, installments="")
    assert invoice.issue_date == TODAY
    assert installments(invoice.id) == [(1, LATER, Decimal("99.99"))]


BAD_INVOICES = [
    ({"issue_date": "2027-13-01"}, "issue_date", "Use a date such as 31/12/2026."),
    ({"installments": "0"}, "installments", "Use 1 to 60 installments."),
    ({"installments": "61"}, "installments", "Use 1 to 60 installments."),
    ({"installments": "três"}, "installments", "Use 1 to 60 installments."),
    ({"installments": "-2"}, "installments", "Use 1 to 60 installments."),
    ({"first_due_date": ""}, "first_due_date", "Give the (first) due date."),
    ({"first_due_date": "30/02/2027"}, "first_due_date", "Use a date such as 31/12/2026."),
    ({"issue_date": "10/03/2027", "first_due_date": "09/03/2027"}, "first_due_date",
     "The due date cannot be before the issue date."),
]


@pytest.mark.parametrize(("data", "field", "message"), BAD_INVOICES,
                         ids=[f"{f}:{m[:24]}" for _d, f, m in BAD_INVOICES])
def test_a_bad_invoice_says_why_per_field_and_writes_nothing(acct, as_user, data, field,
                                                            message):
    rep = as_user()
    order = new_order(acct, rep)
    assert refused(issue, order, rep, **data) == {field: [message]}
    assert (count(Invoice), count(Installment), count(Receivable)) == (0, 0, 0)
    assert db.session.get(Account, acct.id).lifecycle == "prospect"
    assert issue(db.session.get(Order, order.id), rep).number == 1  # no number used up


def test_an_order_is_invoiced_once_unless_cancelled_or_worth_nothing(acct, as_user):
    rep = as_user()
    invoiced = new_order(acct, rep)
    first = issue(invoiced, rep)
    assert refused(issue, invoiced, rep) == {"__all__": ["This order already has an invoice."]}
    services.cancel_invoice(first, user=rep)
    again = issue(db.session.get(Order, invoiced.id), rep)  # its invoice was cancelled
    assert (again.number, again.order_id) == (2, invoiced.id)
    cancelled = new_order(acct, rep)
    services.cancel_order(cancelled, user=rep)
    assert refused(issue, cancelled, rep) == {
        "__all__": ["A cancelled order cannot be invoiced."]}
    nothing = new_order(acct, rep, "0")
    assert refused(issue, nothing, rep) == {"__all__": ["This order has nothing to invoice."]}
    assert count(Invoice) == 2


def test_a_vetoed_issue_writes_nothing_and_gives_the_number_back(acct, as_user):
    rep = as_user()
    order = new_order(acct, rep)
    with vetoed("sales.invoice_issued", "O financeiro recusou.") as seen:
        assert refused(issue, order, rep, installments="2") == {
            "__all__": ["O financeiro recusou."]}
    assert seen and seen[0]["document"] == "NF 000001"
    assert (count(Invoice), count(Installment), count(Receivable), count(SalesEvent,
            SalesEvent.kind == "sales.invoice_issued")) == (0, 0, 0, 0)
    assert db.session.get(Account, acct.id).lifecycle == "prospect"
    assert issue(db.session.get(Order, order.id), rep).display_number == "NF 000001"


# --- cancel ---------------------------------------------------------------------------------


def test_cancelling_an_invoice_is_on_the_timeline_signalled_and_cancels_its_receivables(
        acct, as_user):
    rep = as_user()
    invoice = issue(new_order(acct, rep), rep, installments="2")
    with caught("sales.invoice_cancelled") as cancelled:
        services.cancel_invoice(invoice, user=rep)
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.status == "cancelled" and invoice.cancelled_at is not None
    assert db.session.scalars(select(SalesEvent.kind).order_by(SalesEvent.id)).all()[-1] == \
        "sales.invoice_cancelled"
    [(sender, kwargs)] = cancelled
    assert sender is invoice
    assert kwargs == {"origin": "sales.invoice", "origin_id": invoice.id, "user": rep}
    assert {r.cancelled for r in db.session.scalars(select(Receivable))} == {True}
    assert refused(services.cancel_invoice, invoice, user=rep) == {
        "__all__": ["This invoice is already cancelled."]}


def test_a_vetoed_cancellation_leaves_the_invoice_issued(acct, as_user):
    rep = as_user()
    invoice = issue(new_order(acct, rep), rep)
    with vetoed("sales.invoice_cancelled", "Há pagamentos.") as seen:
        assert refused(services.cancel_invoice, invoice, user=rep) == {
            "__all__": ["Há pagamentos."]}
    assert seen[0]["origin_id"] == invoice.id
    invoice = db.session.get(Invoice, invoice.id)
    assert (invoice.status, invoice.cancelled_at) == ("issued", None)
    assert count(SalesEvent, SalesEvent.kind == "sales.invoice_cancelled") == 0
    assert {r.cancelled for r in db.session.scalars(select(Receivable))} == {False}


def test_finance_vetoes_cancelling_an_invoice_with_payments(acct, as_user):
    rep, clerk = as_user(), as_user("finance")
    invoice = issue(new_order(acct, rep), rep)
    receivable = db.session.scalars(select(Receivable)).one()
    finance.record_payment(receivable, {"amount": "10,00", "method": "pix"}, user=clerk)
    errors = refused(services.cancel_invoice, db.session.get(Invoice, invoice.id), user=rep)
    assert list(errors) == ["__all__"] and "NF 000001" in errors["__all__"][0]
    assert db.session.get(Invoice, invoice.id).status == "issued"


# --- figures and search ---------------------------------------------------------------------


def test_invoiced_this_year_sums_the_years_issued_invoices(acct, as_user, make_account):
    rep = as_user()
    assert services.invoiced_this_year(acct.id) == 0
    issue(new_order(acct, rep, "100,00"), rep)
    issue(new_order(acct, rep, "20,50"), rep, issue_date=date(TODAY.year, 1, 1).isoformat())
    services.cancel_invoice(issue(new_order(acct, rep, "1000"), rep), user=rep)
    last_year = date(TODAY.year - 1, 12, 31)
    issue(new_order(acct, rep, "7"), rep, issue_date=last_year.isoformat(),
          first_due_date=last_year.isoformat())
    db.session.commit()
    other = make_account(legal_name="Outra Ltda.")
    issue(new_order(db.session.get(Account, other), rep, "3"), rep)
    assert Decimal(services.invoiced_this_year(acct.id)) == Decimal("120.50")


@pytest.mark.parametrize(("query", "number"), [
    ("123", 123), ("NF 000123", 123), ("nf000123", 123), ("PR-7", 7), ("abc", None),
    ("1234567890", None), ("²", None), ("", None),
])
def test_a_number_is_found_however_it_is_typed(ctx, query, number):
    clause = services.search_number(Invoice, query)
    if number is None:
        assert clause is None
    else:
        assert str(clause.compile(compile_kwargs={"literal_binds": True})) == \
            f"sales_invoice.number = {number}"
