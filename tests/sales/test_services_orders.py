"""Sales orders through the services: confirm (by hand), deliver, cancel; the orders left to
invoice, the account's last order; document numbers; and record scope — a rep reaches only
the documents of their own accounts, a manager their team's, finance everyone's."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account
from modules.sales import services
from modules.sales.models import Invoice, Order, OrderLine, Quote, SalesEvent
from tests.conftest import csrf_token, login_as
from tests.sales.support import LATER, TODAY, caught, count, line, refused


@pytest.fixture
def acct(ctx, account) -> Account:
    found = db.session.get(Account, account)
    db.session.commit()  # no read transaction left open (see test_services_quotes.acct)
    return found


def new_order(acct, user, *rows, **data) -> Order:
    return services.create_order(acct, {"lines": list(rows) or [line()], **data}, user=user)


def invoice(order, user, **data) -> Invoice:
    return services.issue_invoice(order, {"first_due_date": LATER.isoformat(), **data},
                                  user=user)


# --- confirm --------------------------------------------------------------------------------


def test_an_order_by_hand_is_confirmed_numbered_on_the_timeline_and_signalled(acct, as_user):
    rep = as_user()
    with caught("sales.order_confirmed") as confirmed:
        order = new_order(acct, rep, line("Servidor", "2", "4.500,00", "5"),
                          line("Instalação", "1", "300"), notes=" Urgente ")
        other = new_order(acct, rep, order_date="31/12/2026")
    assert (order.number, order.display_number, other.display_number) == (
        1, "PV 000001", "PV 000002")
    assert (order.status, order.account_id, order.user_id, order.quote_id) == (
        "confirmed", acct.id, rep.id, None)
    assert (order.order_date, other.order_date) == (TODAY, date(2026, 12, 31))
    assert order.notes == "Urgente" and other.notes is None
    assert [(li.position, li.description, li.total) for li in order.lines] == [
        (0, "Servidor", Decimal("8550.00")), (1, "Instalação", Decimal("300.00"))]
    assert order.total == Decimal("8850.00")
    events = db.session.scalars(select(SalesEvent).order_by(SalesEvent.id)).all()
    assert [(e.kind, e.title, e.document_type, e.document_id) for e in events] == [
        ("sales.order_confirmed", "PV 000001", "order", order.id),
        ("sales.order_confirmed", "PV 000002", "order", other.id)]
    assert [(sender, kwargs) for sender, kwargs in confirmed][0] == (order, {
        "account_id": acct.id, "document": "PV 000001", "total": Decimal("8850.00"),
        "quote_id": None, "user": rep})


BAD_ORDERS = [
    ({"order_date": "32/01/2026"}, "order_date", "Use a date such as 31/12/2026."),
    ({"order_date": "ontem"}, "order_date", "Use a date such as 31/12/2026."),
    ({"notes": "n" * 5001}, "notes", "At most 5000 characters."),
    ({"lines": []}, "lines", "Add at least one line."),
    ({"lines": [line(quantity="0")]}, "lines-0-quantity", "Use a quantity greater than zero."),
    ({"lines": [line(unit_price="5 reais")]}, "lines-0-unit_price",
     "Use a price such as 1.234,56."),
    ({"lines": [line(discount="100,01")]}, "lines-0-discount",
     "Use a discount from 0 to 100 (%)."),
    ({"lines": [line(description="  ")]}, "lines-0-description",
     "Describe the product or service."),
]


@pytest.mark.parametrize(("data", "field", "message"), BAD_ORDERS,
                         ids=[f"{field}:{message[:24]}" for _d, field, message in BAD_ORDERS])
def test_a_bad_order_says_why_per_field_and_writes_nothing(acct, as_user, data, field,
                                                          message):
    with caught("sales.order_confirmed") as confirmed:
        errors = refused(services.create_order, acct, {"lines": [line()], **data},
                         user=as_user())
    assert errors == {field: [message]}
    assert (count(Order), count(OrderLine), count(SalesEvent), confirmed) == (0, 0, 0, [])
    assert new_order(acct, as_user()).number == 1


def test_a_full_discount_and_a_free_line_make_an_order_of_nothing(acct, as_user):
    order = new_order(acct, as_user(), line("Brinde", "1", "50", "100"), line("Grátis", "2", "0"))
    assert [li.total for li in order.lines] == [Decimal("0.00"), Decimal("0.00")]
    assert order.total == Decimal("0.00")


# --- deliver and cancel ---------------------------------------------------------------------


def test_a_confirmed_order_is_delivered_once(acct, as_user):
    rep = as_user()
    order = new_order(acct, rep)
    services.deliver_order(order, user=rep)
    assert db.session.get(Order, order.id).status == "delivered"
    assert refused(services.deliver_order, order, user=rep) == {
        "__all__": ["Only a confirmed order can be delivered."]}
    cancelled = new_order(acct, rep)
    services.cancel_order(cancelled, user=rep)
    assert refused(services.deliver_order, cancelled, user=rep) == {
        "__all__": ["Only a confirmed order can be delivered."]}
    assert db.session.get(Order, cancelled.id).status == "cancelled"


def test_an_order_is_cancelled_once_and_a_delivered_one_may_be(acct, as_user):
    rep = as_user()
    order = new_order(acct, rep)
    services.cancel_order(order, user=rep)
    assert db.session.get(Order, order.id).status == "cancelled"
    assert refused(services.cancel_order, order, user=rep) == {
        "__all__": ["This order is already cancelled."]}
    delivered = new_order(acct, rep)
    services.deliver_order(delivered, user=rep)
    services.cancel_order(delivered, user=rep)
    assert db.session.get(Order, delivered.id).status == "cancelled"


def test_an_invoiced_order_is_cancelled_only_after_its_invoice(acct, as_user):
    rep = as_user()
    order = new_order(acct, rep)
    issued = invoice(order, rep)
    assert refused(services.cancel_order, order, user=rep) == {
        "__all__": ["Cancel the order's invoice first."]}
    assert db.session.get(Order, order.id).status == "confirmed"
    services.cancel_invoice(issued, user=rep)
    services.cancel_order(db.session.get(Order, order.id), user=rep)
    assert db.session.get(Order, order.id).status == "cancelled"


def test_the_orders_to_invoice_are_the_accounts_live_uninvoiced_ones_newest_first(
        acct, as_user, make_account):
    rep = as_user()
    older = new_order(acct, rep, order_date=(TODAY - timedelta(days=9)).isoformat())
    newer = new_order(acct, rep)
    same_day = new_order(acct, rep)
    invoiced = new_order(acct, rep)
    invoice(invoiced, rep)
    reinvoiceable = new_order(acct, rep)
    services.cancel_invoice(invoice(reinvoiceable, rep), user=rep)
    cancelled = new_order(acct, rep)
    services.cancel_order(cancelled, user=rep)
    delivered = new_order(acct, rep)
    services.deliver_order(delivered, user=rep)
    found = [o.id for o in services.uninvoiced_orders(acct.id)]
    assert found == [delivered.id, reinvoiceable.id, same_day.id, newer.id, older.id]
    assert invoiced.id not in found
    db.session.commit()
    assert services.uninvoiced_orders(make_account(legal_name="Outra Ltda.")) == []


def test_the_last_order_date_leaves_cancelled_orders_out(acct, as_user):
    rep = as_user()
    assert services.last_order_date(acct.id) is None
    new_order(acct, rep, order_date=(TODAY - timedelta(days=20)).isoformat())
    late = new_order(acct, rep, order_date=(TODAY - timedelta(days=2)).isoformat())
    services.cancel_order(late, user=rep)
    assert services.last_order_date(acct.id) == TODAY - timedelta(days=20)


# --- numbers --------------------------------------------------------------------------------


def test_each_kind_of_document_counts_on_its_own_and_a_rollback_gives_the_number_back(
        acct, as_user, contact):
    rep = as_user()
    quote = services.create_quote(acct, {"valid_until": LATER.isoformat(),
                                         "lines": [line()]}, user=rep)
    by_hand = new_order(acct, rep)
    services.send_quote(quote, contact, user=rep)
    from_quote = services.accept_quote(quote, user=rep)
    first_invoice = invoice(by_hand, rep)
    assert [d.display_number for d in (quote, by_hand, from_quote, first_invoice)] == [
        "PR 000001", "PV 000001", "PV 000002", "NF 000001"]
    assert services.next_number("order") == 3
    db.session.rollback()  # the caller's transaction failed: the number is not used
    assert services.next_number("order") == 3
    assert services.next_number("quote") == 2
    assert services.next_number("invoice") == 2
    db.session.rollback()


# --- scope ----------------------------------------------------------------------------------


@pytest.fixture
def documents_of_rep_a(app, users, account, contact):
    """A quote, an order and an invoice on rep_a's account; their ids."""
    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        acct = db.session.get(Account, account)
        quote = services.create_quote(acct, {"valid_until": LATER.isoformat(),
                                             "lines": [line()]}, user=rep)
        order = new_order(acct, rep)
        issued = invoice(order, rep)
        ids = {"quote": quote.id, "order": order.id, "invoice": issued.id}
        db.session.remove()
    return ids


GETTERS = {"quote": (services.get_quote_or_404, Quote),
           "order": (services.get_order_or_404, Order),
           "invoice": (services.get_invoice_or_404, Invoice)}


@pytest.mark.parametrize(("who", "reaches"), [
    ("rep_a", True),  # the account's owner
    ("rep_b", False),  # a team-mate: a rep sees only their own accounts
    ("rep_c", False),  # another team
    ("manager", True),  # rep_a's team
    ("finance", True),  # every account
    ("admin", True),
])
def test_a_document_is_reached_only_through_an_account_of_the_users_scope(
        app, users, documents_of_rep_a, who, reaches):
    with app.app_context(), app.test_request_context():
        user = db.session.get(User, users[who])
        for kind, (get, model) in GETTERS.items():
            record_id = documents_of_rep_a[kind]
            if reaches:
                assert get(record_id, user).id == record_id
            else:
                with pytest.raises(NotFound):
                    get(record_id, user)
            listed = db.session.scalars(services.in_scope(select(model.id), model, user)).all()
            assert listed == ([record_id] if reaches else []), kind
        with pytest.raises(NotFound):
            services.get_quote_or_404(documents_of_rep_a["quote"] + 1000, user)


def test_a_rep_of_another_team_can_neither_act_on_nor_see_a_document(
        app, client, users, documents_of_rep_a):
    quote_id, order_id = documents_of_rep_a["quote"], documents_of_rep_a["order"]
    invoice_id = documents_of_rep_a["invoice"]
    login_as(client, users["rep_c"])
    token = csrf_token(client, "/sales/quotes")
    for url in (f"/sales/quotes/{quote_id}/accept", f"/sales/quotes/{quote_id}/refuse",
                f"/sales/orders/{order_id}/deliver", f"/sales/orders/{order_id}/cancel",
                f"/sales/invoices/{invoice_id}/cancel", f"/sales/quotes/{quote_id}/edit"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    with app.app_context():
        assert db.session.get(Order, order_id).status == "confirmed"
        assert db.session.get(Invoice, invoice_id).status == "issued"
    login_as(client, users["manager"])  # the manager acts on the team's documents
    token = csrf_token(client, "/sales/quotes")
    response = client.post(f"/sales/invoices/{invoice_id}/cancel", data={"csrf_token": token})
    assert response.status_code == 303
    response = client.post(f"/sales/orders/{order_id}/deliver", data={"csrf_token": token})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).status == "cancelled"
        assert db.session.get(Order, order_id).status == "delivered"
