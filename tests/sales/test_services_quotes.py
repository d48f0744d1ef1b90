"""Sales quotes through the services: create, update, send, accept, refuse and expire; the
numbers, every field's validation message, the timeline entries and the signals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from erp.db import db
from erp.mail import OutboxMessage
from modules.crm.models import Account, Contact
from modules.sales import services
from modules.sales.models import Order, OrderLine, Quote, QuoteLine, SalesEvent
from tests.conftest import csrf_token, login_as
from tests.sales.support import LATER, TODAY, caught, count, line, refused


@pytest.fixture
def acct(ctx, account) -> Account:
    """The account, in the test's app context; its read transaction ended, so that records
    the fixtures make in contexts of their own are seen (and SQLite is not locked)."""
    found = db.session.get(Account, account)
    db.session.commit()
    return found


@pytest.fixture
def add_contact(make_contact, make_account):
    """make_contact (with an account of its own if ``elsewhere``), seen by the test's session."""

    def make(name: str, *, account_id: int | None = None, elsewhere: bool = False, **data):
        if elsewhere:
            account_id = make_account(legal_name=f"Conta de {name}")
        made = make_contact(name=name, account_id=account_id, **data)
        db.session.commit()  # ends the test's read transaction: what was written shows
        return made

    return make


def new_quote(acct, user, *rows, **data) -> Quote:
    data.setdefault("valid_until", LATER.isoformat())
    return services.create_quote(acct, {"lines": list(rows) or [line()], **data}, user=user)


def sent_quote(acct, user, contact, *rows, **data) -> Quote:
    return services.send_quote(new_quote(acct, user, *rows, **data), contact, user=user)


# --- create -------------------------------------------------------------------------------


def test_a_new_quote_is_a_numbered_draft_with_its_lines_and_totals(acct, as_user):
    rep = as_user("rep_a")
    first = new_quote(acct, rep, line("Consultoria", "2,5", "1.000,00", "10"),
                      line("Licença", "3", "33,33"), line("", "", "", ""),
                      notes="  Pagamento em 30 dias.  ")
    second = new_quote(acct, rep)
    assert (first.number, first.display_number) == (1, "PR 000001")
    assert (second.number, second.display_number) == (2, "PR 000002")
    assert (first.status, first.account_id, first.user_id) == ("draft", acct.id, rep.id)
    assert (first.valid_until, first.contact_id, first.sent_at, first.decided_at) == (
        LATER, None, None, None)
    assert first.notes == "Pagamento em 30 dias."
    assert [(li.position, li.description, li.quantity, li.unit_price, li.discount, li.total)
            for li in first.lines] == [
        (0, "Consultoria", Decimal("2.500"), Decimal("1000.00"), Decimal("10.00"),
         Decimal("2250.00")),
        (1, "Licença", Decimal("3.000"), Decimal("33.33"), Decimal("0.00"), Decimal("99.99"))]
    assert first.total == Decimal("2349.99")
    assert count(SalesEvent) == 0  # a draft is not on the timeline


def test_a_blank_quantity_is_one_and_amounts_round_half_up(acct, as_user):
    quote = new_quote(acct, as_user(), line("A", "", "10,005"), line("B", "0,3335", "3"))
    assert [(li.quantity, li.unit_price, li.total) for li in quote.lines] == [
        (Decimal("1.000"), Decimal("10.01"), Decimal("10.01")),
        (Decimal("0.334"), Decimal("3.00"), Decimal("1.00"))]
    assert quote.total == Decimal("11.01")


def test_the_quote_contact_must_be_one_of_the_account(acct, as_user, contact, add_contact):
    elsewhere = add_contact("De Outra", email="x@outra.example", elsewhere=True)
    rep = as_user()
    message = {"contact_id": ["Choose a contact of this account."]}
    assert refused(new_quote, acct, rep, contact_id=str(elsewhere)) == message
    assert refused(new_quote, acct, rep, contact_id="abc") == message
    assert refused(new_quote, acct, rep, contact_id="0") == message
    assert new_quote(acct, rep, contact_id=str(contact)).contact_id == contact
    assert new_quote(acct, rep, contact_id="").contact_id is None


TOO_LONG = "x" * 256

BAD_QUOTES = [
    ({"valid_until": ""}, "valid_until", "Give the date until which the quote is valid."),
    ({"valid_until": "31/02/2026"}, "valid_until", "Use a date such as 31/12/2026."),
    ({"valid_until": (TODAY - timedelta(days=1)).isoformat()}, "valid_until",
     "The validity date cannot be in the past."),
    ({"notes": "n" * 5001}, "notes", "At most 5000 characters."),
    ({"lines": []}, "lines", "Add at least one line."),
    ({"lines": [line("", "", "", "")]}, "lines", "Add at least one line."),
    ({"lines": [line(quantity="0")]}, "lines-0-quantity", "Use a quantity greater than zero."),
    ({"lines": [line(quantity="-1")]}, "lines-0-quantity",
     "Use a quantity greater than zero."),
    ({"lines": [line(quantity="dois")]}, "lines-0-quantity",
     "Use a quantity greater than zero."),
    ({"lines": [line(unit_price="abc")]}, "lines-0-unit_price",
     "Use a price such as 1.234,56."),
    ({"lines": [line(unit_price="-1")]}, "lines-0-unit_price",
     "Use a price such as 1.234,56."),
    ({"lines": [line(unit_price="")]}, "lines-0-unit_price", "Use a price such as 1.234,56."),
    ({"lines": [line(discount="150")]}, "lines-0-discount",
     "Use a discount from 0 to 100 (%)."),
    ({"lines": [line(discount="-5")]}, "lines-0-discount",
     "Use a discount from 0 to 100 (%)."),
    ({"lines": [line(description="")]}, "lines-0-description",
     "Describe the product or service."),
    ({"lines": [line(), line(description=TOO_LONG)]}, "lines-1-description",
     "At most 255 characters."),
    ({"lines": [line(product_id="999999")]}, "lines-0-product_id",
     "Choose a product of the catalog."),
    ({"lines": [line(product_id="abc")]}, "lines-0-product_id",
     "Choose a product of the catalog."),
    ({"lines": [line()] * 201}, "lines", "At most 200 lines."),
    ({"lines": [line(quantity="2", unit_price="999.999.999.999,00")]}, "lines",
     "The total is too large."),
]


@pytest.mark.parametrize(("data", "field", "message"), BAD_QUOTES,
                         ids=[f"{field}:{message[:24]}" for _d, field, message in BAD_QUOTES])
def test_a_bad_quote_says_why_per_field_and_writes_nothing(acct, as_user, data, field,
                                                          message):
    assert refused(new_quote, acct, as_user(), **data) == {field: [message]}
    assert (count(Quote), count(QuoteLine)) == (0, 0)
    assert new_quote(acct, as_user()).number == 1  # no number was used up


def test_every_problem_is_reported_at_once(acct, as_user):
    errors = refused(new_quote, acct, as_user(), valid_until="ontem", notes="n" * 5001,
                     contact_id="x", lines=[line(quantity="0", discount="101"),
                                            line(description="", unit_price="z")])
    assert set(errors) == {"valid_until", "notes", "contact_id", "lines-0-quantity",
                           "lines-0-discount", "lines-1-description", "lines-1-unit_price"}


# --- update ---------------------------------------------------------------------------------


def test_updating_a_draft_keeps_its_number_and_replaces_its_lines(acct, as_user, contact):
    rep = as_user()
    quote = new_quote(acct, rep, line("A", "1", "10"), line("B", "1", "20"))
    new_quote(acct, rep)
    services.update_quote(quote, {"valid_until": TODAY.isoformat(), "notes": "Revisto",
                                  "contact_id": str(contact),
                                  "lines": [line("C", "4", "2,50", "50")]}, user=rep)
    db.session.expire_all()
    quote = db.session.get(Quote, quote.id)
    assert (quote.number, quote.status, quote.valid_until, quote.notes, quote.contact_id) == (
        1, "draft", TODAY, "Revisto", contact)
    assert [(li.description, li.total) for li in quote.lines] == [("C", Decimal("5.00"))]
    assert quote.total == Decimal("5.00")
    assert count(QuoteLine, QuoteLine.quote_id == quote.id) == 1  # the old lines are gone


def test_a_bad_update_changes_nothing(acct, as_user):
    rep = as_user()
    quote = new_quote(acct, rep, line("A", "1", "10"))
    errors = refused(services.update_quote, quote,
                     {"valid_until": LATER.isoformat(), "lines": [line(quantity="0")]}, user=rep)
    assert errors == {"lines-0-quantity": ["Use a quantity greater than zero."]}
    quote = db.session.get(Quote, quote.id)
    assert [(li.description, li.total) for li in quote.lines] == [("A", Decimal("10.00"))]
    assert quote.total == Decimal("10.00")


@pytest.mark.parametrize("step", ["sent", "accepted", "refused"])
def test_only_a_draft_can_be_changed(acct, as_user, contact, step):
    rep = as_user()
    quote = sent_quote(acct, rep, contact)
    if step == "accepted":
        services.accept_quote(quote, user=rep)
    elif step == "refused":
        services.refuse_quote(quote, user=rep)
    assert refused(services.update_quote, quote, {"valid_until": LATER.isoformat(),
                                                  "lines": [line("Outro")]}, user=rep) == {
        "__all__": ["Only a draft quote can be changed."]}
    assert [li.description for li in db.session.get(Quote, quote.id).lines] == ["Consultoria"]


# --- send -----------------------------------------------------------------------------------


def test_sending_queues_the_mail_marks_it_sent_and_tells_the_timeline(acct, as_user, contact):
    rep = as_user()
    quote = new_quote(acct, rep, line("Consultoria", "2", "150,00"))
    with caught("sales.quote_sent") as sent:
        services.send_quote(quote, str(contact), user=rep, message="  Segue a proposta.  ")
    quote = db.session.get(Quote, quote.id)
    assert (quote.status, quote.contact_id) == ("sent", contact)
    assert quote.sent_at is not None and quote.decided_at is None
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert mail.to == ["Ana Compras <ana@cliente.example>"]
    assert mail.subject == "Quote PR 000001"
    assert mail.reply_to == "rep_a@example.com"
    assert mail.source == "sales.quote"
    assert "Segue a proposta." in mail.body_text and "Consultoria" in mail.body_text
    event = db.session.scalars(select(SalesEvent)).one()
    assert (event.kind, event.title, event.account_id, event.document_type, event.document_id,
            event.user_id) == ("sales.quote_sent", "PR 000001", acct.id, "quote", quote.id,
                               rep.id)
    [(sender, kwargs)] = sent
    assert sender is quote
    assert kwargs == {"account_id": acct.id, "document": "PR 000001",
                      "to": "ana@cliente.example", "user": rep}


def test_a_sent_quote_may_be_sent_again(acct, account, as_user, contact, add_contact):
    rep = as_user()
    quote = sent_quote(acct, rep, contact)
    other = add_contact("Bia Financeiro", email="bia@cliente.example", account_id=account)
    services.send_quote(quote, other, user=rep)
    assert db.session.get(Quote, quote.id).contact_id == other
    assert [m.to for m in db.session.scalars(select(OutboxMessage).order_by(
        OutboxMessage.id))] == [["Ana Compras <ana@cliente.example>"],
                                ["Bia Financeiro <bia@cliente.example>"]]
    assert count(SalesEvent, SalesEvent.kind == "sales.quote_sent") == 2


def test_a_contact_without_an_address_or_of_another_account_is_refused(
        acct, account, as_user, add_contact):
    rep = as_user()
    quote = new_quote(acct, rep)
    mute = add_contact("Sem Email", account_id=account)
    elsewhere = add_contact("Outro", email="o@outra.example", elsewhere=True)
    assert refused(services.send_quote, quote, mute, user=rep) == {
        "contact_id": ["Sem Email has no e-mail address: add one to the contact first."]}
    for wrong in (elsewhere, "abc", "", None):
        assert refused(services.send_quote, quote, wrong, user=rep) == {
            "contact_id": ["Choose a contact of this account."]}, wrong
    assert (db.session.get(Quote, quote.id).status, count(OutboxMessage), count(SalesEvent)) \
        == ("draft", 0, 0)


def test_an_unusable_address_is_refused_and_a_bad_sender_address_is_left_out(
        acct, as_user, contact):
    rep = as_user()
    quote = new_quote(acct, rep)
    db.session.get(Contact, contact).email = "ana@cliente.example\r\nBcc: x@evil.example"
    db.session.commit()
    assert refused(services.send_quote, quote, contact, user=rep) == {
        "contact_id": ["The e-mail address of Ana Compras is not valid."]}
    assert count(OutboxMessage) == 0
    db.session.get(Contact, contact).email = "ana@cliente.example"
    rep.email = "rep_a@exa mple"  # the sender's own address is the bad one
    db.session.commit()
    services.send_quote(db.session.get(Quote, quote.id), contact, user=rep)
    mail = db.session.scalars(select(OutboxMessage)).one()
    assert (mail.to, mail.reply_to) == (["Ana Compras <ana@cliente.example>"], None)


@pytest.mark.parametrize("step", ["accepted", "refused"])
def test_a_decided_quote_can_no_longer_be_sent(acct, as_user, contact, step):
    rep = as_user()
    quote = sent_quote(acct, rep, contact)
    (services.accept_quote if step == "accepted" else services.refuse_quote)(quote, user=rep)
    assert refused(services.send_quote, quote, contact, user=rep) == {
        "__all__": ["This quote can no longer be sent."]}
    assert count(OutboxMessage) == 1


def test_an_expired_quote_can_no_longer_be_sent(acct, as_user, contact):
    rep = as_user()
    draft = new_quote(acct, rep)
    draft.valid_until = TODAY - timedelta(days=1)  # as if time had passed
    db.session.commit()
    assert refused(services.send_quote, draft, contact, user=rep) == {
        "__all__": ["This quote has expired: it can no longer be sent."]}
    sent = sent_quote(acct, rep, contact)
    sent.valid_until = TODAY - timedelta(days=1)
    db.session.commit()
    assert refused(services.send_quote, sent, contact, user=rep) == {
        "__all__": ["This quote can no longer be sent."]}  # "expired" is not "sent"
    assert count(OutboxMessage) == 1


# --- accept and refuse ----------------------------------------------------------------------


def test_accepting_makes_an_order_with_the_same_lines(acct, as_user, contact):
    rep = as_user()
    product = services.create_product({"code": "P-1", "name": "Cadeira", "price": "99,90"})
    quote = sent_quote(acct, rep, contact, line("Consultoria", "2", "150,00", "10"),
                       {"product_id": str(product.id), "quantity": "3"}, notes="Entrega já")
    with caught("sales.order_confirmed") as confirmed:
        order = services.accept_quote(quote, user=rep)
    quote = db.session.get(Quote, quote.id)
    assert (quote.status, quote.decided_at is not None) == ("accepted", True)
    assert (order.number, order.display_number, order.status, order.quote_id) == (
        1, "PV 000001", "confirmed", quote.id)
    assert (order.account_id, order.user_id, order.order_date, order.notes) == (
        acct.id, rep.id, TODAY, "Entrega já")
    assert order.total == quote.total == Decimal("569.70")
    assert [(li.position, li.product_id, li.description, li.quantity, li.unit_price,
             li.discount, li.total) for li in order.lines] == [
        (0, None, "Consultoria", Decimal("2.000"), Decimal("150.00"), Decimal("10.00"),
         Decimal("270.00")),
        (1, product.id, "Cadeira", Decimal("3.000"), Decimal("99.90"), Decimal("0.00"),
         Decimal("299.70"))]
    assert count(OrderLine) == 2 and count(QuoteLine) == 2  # copied, not moved
    kinds = db.session.scalars(select(SalesEvent.kind).order_by(SalesEvent.id)).all()
    assert kinds == ["sales.quote_sent", "sales.quote_accepted", "sales.order_confirmed"]
    [(sender, kwargs)] = confirmed
    assert sender is order
    assert kwargs == {"account_id": acct.id, "document": "PV 000001",
                      "total": Decimal("569.70"), "quote_id": quote.id, "user": rep}


@pytest.mark.parametrize("sent", [True, False])
@pytest.mark.parametrize("step", ["accepted", "refused"])
def test_a_decided_quote_cannot_be_accepted(acct, as_user, contact, step, sent):
    rep = as_user()
    quote = new_quote(acct, rep)
    if sent:
        services.send_quote(quote, contact, user=rep)
    (services.accept_quote if step == "accepted" else services.refuse_quote)(quote, user=rep)
    assert refused(services.accept_quote, quote, user=rep) == {
        "__all__": ["Only a draft or sent quote can be accepted."]}
    assert count(Order) == (1 if step == "accepted" else 0)


def test_a_draft_never_e_mailed_can_be_accepted(acct, as_user):
    """A customer who agreed by phone: the draft becomes an order without an e-mail, on the
    timeline and in the audit trail as a sent one would (issue 17)."""
    from erp.audit.models import AuditEntry

    rep = as_user()
    quote = new_quote(acct, rep, line("Consultoria", "2", "150,00"))
    with caught("sales.order_confirmed") as confirmed:
        order = services.accept_quote(quote, user=rep)
    quote = db.session.get(Quote, quote.id)
    assert (quote.status, quote.sent_at, quote.decided_at is not None) == (
        "accepted", None, True)
    assert (order.status, order.quote_id, order.total) == ("confirmed", quote.id,
                                                          Decimal("300.00"))
    assert count(OutboxMessage) == 0
    assert db.session.scalars(select(SalesEvent.kind).order_by(SalesEvent.id)).all() == [
        "sales.quote_accepted", "sales.order_confirmed"]
    assert len(confirmed) == 1
    changes = db.session.scalars(select(AuditEntry.changes).where(
        AuditEntry.table_name == "sales_quote", AuditEntry.record_id == str(quote.id))).all()
    assert any(change.get("status") == ["draft", "accepted"] for change in changes)


def test_a_draft_past_its_validity_date_cannot_be_accepted(acct, as_user):
    rep = as_user()
    draft = new_quote(acct, rep)
    draft.valid_until = TODAY - timedelta(days=1)  # as if time had passed
    db.session.commit()
    assert refused(services.accept_quote, draft, user=rep) == {"__all__": [
        "The validity date of this quote has passed: change it before marking it accepted."]}
    assert count(Order) == 0 and db.session.get(Quote, draft.id).status == "draft"
    services.refuse_quote(draft, user=rep)  # but the customer may still have said no
    assert db.session.get(Quote, draft.id).status == "refused"


def test_an_expired_quote_cannot_be_accepted_but_may_be_refused(acct, as_user, contact):
    rep = as_user()
    quote = sent_quote(acct, rep, contact)
    quote.valid_until = TODAY - timedelta(days=1)
    db.session.commit()
    assert refused(services.accept_quote, quote, user=rep) == {
        "__all__": ["This quote has expired: it can no longer be accepted."]}
    assert count(Order) == 0
    services.refuse_quote(quote, user=rep)
    assert db.session.get(Quote, quote.id).status == "refused"


def test_refusing_a_sent_quote_is_on_the_timeline(acct, as_user, contact):
    rep = as_user()
    quote = sent_quote(acct, rep, contact)
    services.refuse_quote(quote, user=rep)
    quote = db.session.get(Quote, quote.id)
    assert quote.status == "refused" and quote.decided_at is not None
    assert db.session.scalars(select(SalesEvent.kind).order_by(SalesEvent.id)).all() == [
        "sales.quote_sent", "sales.quote_refused"]
    assert refused(services.refuse_quote, quote, user=rep) == {
        "__all__": ["Only a draft or sent quote can be refused."]}
    accepted = new_quote(acct, rep)
    services.accept_quote(accepted, user=rep)
    assert refused(services.refuse_quote, accepted, user=rep) == {
        "__all__": ["Only a draft or sent quote can be refused."]}


def test_a_draft_never_e_mailed_can_be_refused(acct, as_user):
    rep = as_user()
    draft = new_quote(acct, rep)
    services.refuse_quote(draft, user=rep)
    draft = db.session.get(Quote, draft.id)
    assert (draft.status, draft.sent_at, draft.decided_at is not None) == (
        "refused", None, True)
    assert db.session.scalars(select(SalesEvent.kind)).all() == ["sales.quote_refused"]
    assert count(OutboxMessage) == 0


# --- expiry ---------------------------------------------------------------------------------


def test_expired_is_computed_from_today_in_python_and_in_sql(acct, as_user, contact):
    rep = as_user()
    draft = new_quote(acct, rep)
    valid = sent_quote(acct, rep, contact)
    lapsed = sent_quote(acct, rep, contact)
    accepted = sent_quote(acct, rep, contact)
    services.accept_quote(accepted, user=rep)
    declined = sent_quote(acct, rep, contact)
    services.refuse_quote(declined, user=rep)
    for quote in (draft, lapsed, accepted, declined):
        quote.valid_until = TODAY - timedelta(days=1)
    db.session.commit()
    expected = {"draft": [draft.id], "sent": [valid.id], "expired": [lapsed.id],
                "accepted": [accepted.id], "refused": [declined.id]}
    for status, ids in expected.items():
        found = db.session.scalars(select(Quote.id).where(
            services.quote_status_filter(status)).order_by(Quote.id)).all()
        assert found == ids, status
        assert [q.current_status for q in db.session.scalars(
            select(Quote).where(Quote.id.in_(ids)))] == [status]
    assert valid.status_on(LATER) == "sent"
    assert valid.status_on(LATER + timedelta(days=1)) == "expired"
    assert draft.status_on(LATER + timedelta(days=1)) == "draft"  # only a sent quote expires


def test_a_new_quote_is_valid_for_thirty_days_by_default(ctx):
    # In the app, as the services run: outside one, "today" would be the server's (UTC),
    # a day ahead of the users' for three hours every night.
    assert services.default_validity() == TODAY + timedelta(days=30)


def test_the_contacts_to_send_to_are_the_accounts_active_ones_by_name(account, ctx,
                                                                      add_contact):
    zeca = add_contact("Zeca", email="z@cliente.example", account_id=account)
    bia = add_contact("Bia", email="b@cliente.example", account_id=account)
    gone = add_contact("Antigo", email="a@cliente.example", account_id=account)
    add_contact("Alheio", elsewhere=True)
    db.session.get(Contact, gone).archived = True
    db.session.commit()
    assert [c.id for c in services.account_contacts(account)] == [bia, zeca]


# --- through the web --------------------------------------------------------------------------


def test_the_web_sends_accepts_and_refuses_through_the_same_rules(app, client, users, account,
                                                                  contact, as_user):
    with app.app_context():
        rep = as_user()
        acct = db.session.get(Account, account)
        first, second = new_quote(acct, rep).id, new_quote(acct, rep).id
    login_as(client, users["rep_a"])
    for quote_id in (first, second):
        page = f"/sales/quotes/{quote_id}/send"
        response = client.post(page, data={"csrf_token": csrf_token(client, page),
                                           "contact_id": str(contact)})
        assert response.status_code in (302, 303)
    detail = f"/sales/quotes/{first}"
    for action, quote_id in (("accept", first), ("refuse", second), ("accept", second)):
        response = client.post(f"/sales/quotes/{quote_id}/{action}",
                               data={"csrf_token": csrf_token(client, detail)})
        assert response.status_code == 303
    assert "Only a draft or sent quote can be accepted." in client.get(
        f"/sales/quotes/{second}").get_data(as_text=True)
    with app.app_context():
        assert [db.session.get(Quote, i).status for i in (first, second)] == [
            "accepted", "refused"]
        assert count(Order) == 1


def test_the_quote_page_offers_accept_and_refuse_on_a_draft_with_a_confirmation(
        app, client, users, account, as_user):
    """A customer who agreed by phone: the draft's page has "Accepted → order" (asking first,
    since no e-mail went out) and posting it confirms the order (issue 17)."""
    import re

    with app.app_context():
        rep = as_user()
        acct = db.session.get(Account, account)
        draft, lapsed = new_quote(acct, rep).id, new_quote(acct, rep).id
        db.session.get(Quote, lapsed).valid_until = TODAY - timedelta(days=1)
        db.session.commit()
    login_as(client, users["rep_a"])
    detail = f"/sales/quotes/{draft}"
    html = client.get(detail).get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="([^"]+)" class="d-inline" '
                       r'data-confirm="([^"]+)"', html)
    assert [action for action, _confirm in forms] == [f"/sales/quotes/{draft}/accept",
                                                       f"/sales/quotes/{draft}/refuse"]
    assert all("not sent by e-mail" in confirm for _action, confirm in forms)
    # A draft past its validity date: no accept button (edit its date first), refuse stays.
    lapsed_html = client.get(f"/sales/quotes/{lapsed}").get_data(as_text=True)
    assert f"/sales/quotes/{lapsed}/accept" not in lapsed_html
    assert f"/sales/quotes/{lapsed}/refuse" in lapsed_html
    response = client.post(f"/sales/quotes/{draft}/accept",
                           data={"csrf_token": csrf_token(client, detail)})
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.quote_id == draft))
        assert response.location.endswith(f"/sales/orders/{order.id}")
        assert db.session.get(Quote, draft).status == "accepted"
        assert count(OutboxMessage) == 0
