"""Demo data queues real e-mail (quotes, watchers): every address is on a domain reserved for
examples by RFC 2606, so none can ever reach a real mailbox."""

from __future__ import annotations

from email.utils import getaddresses

from sqlalchemy import String, select

from erp.db import db
from erp.demo import load_demo
from erp.mail import OutboxMessage

RESERVED_TLDS = ("example", "test", "invalid", "localhost")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def rfc2606(address: str) -> bool:
    domain = address.rpartition("@")[2].lower().rstrip(".")
    if domain.rpartition(".")[2] in RESERVED_TLDS:
        return True
    return any(domain == reserved or domain.endswith("." + reserved)
               for reserved in RESERVED_DOMAINS)


def test_rfc2606_check():
    assert all(rfc2606(a) for a in ("a@example.com", "a@silva.example.com", "a@x.example",
                                    "a@mosaic.example", "a@example.org", "a@host.test"))
    assert not any(rfc2606(a) for a in ("a@gmail.com", "a@silva.com.br", "a@notexample.com",
                                        "a@example.com.br", "a@example.co"))


def email_columns():
    """Every text column of every table whose name says it holds e-mail addresses."""
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            name = column.name.lower()
            if "mail" in name and "subject" not in name and isinstance(column.type, String):
                yield table, column


def test_demo_data_mails_only_reserved_domains(app):
    with app.app_context():
        load_demo()
        messages = db.session.scalars(select(OutboxMessage)).all()
        assert len(messages) > 10, "the demo queues quote and watcher e-mail"
        recipients = [address for message in messages
                      for _name, address in getaddresses(
                          message.to + message.cc + ([message.reply_to] if message.reply_to
                                                     else []))]
        assert recipients and not [a for a in recipients if not rfc2606(a)]

        checked = {}
        for table, column in email_columns():
            values = db.session.scalars(select(column).where(column.is_not(None))).all()
            addresses = [address for value in values
                         for _name, address in getaddresses([value]) if address]
            checked[f"{table.name}.{column.name}"] = len(addresses)
            wrong = [a for a in addresses if not rfc2606(a)]
            assert not wrong, f"{table.name}.{column.name}: {wrong[:5]}"
        for column in ("auth_user.email", "crm_account.email", "crm_contact.email"):
            assert checked.get(column), f"{column} not checked: {sorted(checked)}"
