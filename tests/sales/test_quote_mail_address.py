"""A quote e-mailed to a contact whose name holds '<', '"' and ',' (issue 13): the To:
header names the contact as typed, quoted, and goes to the contact's one address."""

from __future__ import annotations

from email import message_from_bytes, policy

from sqlalchemy import select

from erp.db import db
from erp.mail import OutboxMessage, build_email
from tests.conftest import login_as
from tests.sales.conftest import account  # noqa: F401 (fixture)
from tests.sales.test_quote_mail_notice import draft_quote, send

NAME = 'Compras, "Ana" <boss@evil.example>'


def test_the_to_header_quotes_the_contact_name(app, client, users, account,  # noqa: F811
                                               make_contact):
    contact = make_contact(name=NAME, email="ana@cliente.example", account_id=account)
    quote_id = draft_quote(app, users, account, contact)
    login_as(client, users["rep_a"])
    assert send(client, quote_id, contact).status_code == 303
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        raw = build_email(message).as_bytes()
        db.session.rollback()
    to = message_from_bytes(raw, policy=policy.default)["To"]
    assert [(a.display_name, a.addr_spec) for a in to.addresses] == [
        (NAME, "ana@cliente.example")]
    assert len(to.addresses) == 1  # boss@evil.example is part of the name, not a recipient
