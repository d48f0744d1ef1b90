"""Address headers are written as RFC 5322 says (issue 13): a display name holding '<', '"'
or ',' is quoted, so it stays one name and never becomes another recipient."""

from __future__ import annotations

from email import message_from_bytes, message_from_string, policy

import pytest
from sqlalchemy import select

from erp.db import db
from erp.mail import OutboxMessage, _address, build_email, format_address, queue_mail

HOSTILE_NAMES = ['Ana <boss@evil.example>', 'Silva, Ana', 'Ana "Chefe" Silva',
                 'x" <e@evil.example>, "y', '"Ana', 'back\\slash', 'Ana; Bob', 'João (TI)',
                 'Ana\r\nBcc: all@evil.example']


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_display_name_stays_one_name(name):
    formatted = format_address(name, "ana@example.com")
    assert "\n" not in formatted and "\r" not in formatted
    normalized = _address(formatted)
    email = message_from_string(f"To: {normalized}, other@example.com\n\n",
                                policy=policy.default)
    addresses = email["To"].addresses
    assert [a.addr_spec for a in addresses] == ["ana@example.com", "other@example.com"]
    assert addresses[0].display_name == " ".join(name.split())


def test_plain_names_stay_readable():
    assert format_address("João Silva", "joao@example.com") == "João Silva <joao@example.com>"
    assert format_address("", "joao@example.com") == "joao@example.com"
    assert format_address("Silva, João", "j@example.com") == '"Silva, João" <j@example.com>'


def test_the_built_message_has_the_quoted_names(app):
    names = ['Ana <boss@evil.example>', 'Silva, "Chefe"']
    with app.app_context():
        message = queue_mail([format_address(names[0], "ana@example.com")], "Oi", "corpo",
                             cc=[format_address(names[1], "chefe@example.com")],
                             reply_to=format_address("Rep, <Ana>", "rep@example.com"))
        db.session.commit()
        message = db.session.scalars(select(OutboxMessage)).one()
        raw = build_email(message).as_bytes()
        db.session.rollback()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        (names[0], "ana@example.com")]
    assert [(a.display_name, a.addr_spec) for a in parsed["Cc"].addresses] == [
        (names[1], "chefe@example.com")]
    assert [(a.display_name, a.addr_spec) for a in parsed["Reply-To"].addresses] == [
        ("Rep, <Ana>", "rep@example.com")]
    assert b'"Ana <boss@evil.example>" <ana@example.com>' in raw

