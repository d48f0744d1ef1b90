"""Demo sales data: a catalog and a year of quotes, orders and invoices for the demo
accounts, made through the real services (so finance, when installed, gets its
receivables from the invoice signal), then dated back over the past year."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update

from erp.db import db
from modules.crm.models import Account, AccountContact, Contact

from . import services
from .models import Quote, SalesEvent

CATALOG = (
    ("ERP-LIC", "Licença ERP (usuário/ano)", "product", "1.200,00"),
    ("IMPL-H", "Implantação (hora)", "service", "180,00"),
    ("TREIN", "Treinamento (turma)", "service", "2.500,00"),
    ("SUP-M", "Suporte premium (mês)", "service", "890,00"),
    ("INT-EC", "Integração e-commerce", "service", "6.000,00"),
    ("NOBREAK", "Nobreak 1,5 kVA", "product", "1.349,90"),
)
ACCOUNTS = 15  # the first demo accounts get a sales history


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


def _backdate(document, kind: str, day: date) -> None:
    """Move a document and its timeline entries to ``day`` (demo history only)."""
    document.created_at = document.updated_at = _moment(day)
    db.session.execute(update(SalesEvent).where(
        SalesEvent.document_type == kind, SalesEvent.document_id == document.id)
        .values(at=_moment(day)))
    db.session.commit()


def load() -> None:
    rng = random.Random(2026)  # noqa: S311 - repeatable demo data, not security
    products = [services.create_product({"code": code, "name": name, "kind": kind,
                                         "price": price})
                for code, name, kind, price in CATALOG]
    today = date.today()
    accounts = list(db.session.scalars(select(Account).order_by(Account.id).limit(ACCOUNTS)))
    for index, account in enumerate(accounts):
        user = account.owner
        contact = db.session.scalar(
            select(Contact).join(AccountContact, AccountContact.contact_id == Contact.id)
            .where(AccountContact.account_id == account.id, Contact.email.is_not(None))
            .limit(1))
        for n in range(rng.randint(1, 4)):
            day = today - timedelta(days=rng.randint(5, 360))
            rows = [{"product_id": str(p.id), "quantity": str(rng.randint(1, 8)),
                     "discount": rng.choice(("0", "0", "5", "10"))}
                    for p in rng.sample(products, rng.randint(1, 3))]
            quote = services.create_quote(account, {
                "valid_until": (today + timedelta(days=30)).isoformat(),
                "contact_id": str(contact.id) if contact else "", "lines": rows}, user=user)
            if contact is None or (index + n) % 5 == 4:
                continue  # stays a draft
            services.send_quote(quote, contact.id, user=user)
            fate = (index + n) % 4
            if fate == 3:
                services.refuse_quote(quote, user=user)
            elif fate == 2 and day < today - timedelta(days=40):
                quote.valid_until = day + timedelta(days=30)  # never answered: expired
                db.session.commit()
            elif fate in (0, 1, 2):
                order = services.accept_quote(quote, user=user)
                order.order_date = day
                _backdate(order, "order", day)
                if fate != 2:
                    services.issue_invoice(order, {
                        "issue_date": day.isoformat(),
                        "installments": str(rng.choice((1, 1, 2, 3))),
                        "first_due_date": (day + timedelta(days=30)).isoformat()}, user=user)
                    invoice = order.issued_invoice
                    _backdate(invoice, "invoice", day)
            _backdate(quote, "quote", day)
    # A quote in draft for the first account, to have something to send.
    if accounts:
        first = db.session.scalar(select(Quote).where(Quote.account_id == accounts[0].id))
        if first is None:
            services.create_quote(accounts[0], {
                "valid_until": (today + timedelta(days=15)).isoformat(),
                "lines": [{"product_id": str(products[0].id), "quantity": "3"}]},
                user=accounts[0].owner)


# --- the contract tests' records (erp.registry.ContractData) ---------------------------------


def contract_data(account: Account, user) -> None:
    """A quote sent to a contact of ``account`` and accepted (an order), then invoiced, as
    ``user``: documents in the Sales tab and each step in the timeline. The contact is
    CRM's contract data (made first on the account) or one made here."""
    today = date.today()
    product = services.create_product({"code": f"CT-{account.id}", "name": "Contrato",
                                       "kind": "service", "price": "150,00"})
    contact = db.session.scalar(
        select(Contact).join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(AccountContact.account_id == account.id, Contact.email.is_not(None)).limit(1))
    if contact is None:
        contact = Contact(name="Contato de Vendas", email="vendas@example.com",
                          owner_id=user.id)
        db.session.add(contact)
        db.session.flush()
        db.session.add(AccountContact(account_id=account.id, contact_id=contact.id,
                                      role="Compras"))
        db.session.commit()
    quote = services.create_quote(account, {
        "valid_until": (today + timedelta(days=30)).isoformat(), "contact_id": str(contact.id),
        "lines": [{"product_id": str(product.id), "quantity": "2"}]}, user=user)
    services.send_quote(quote, contact.id, user=user)
    order = services.accept_quote(quote, user=user)
    services.issue_invoice(order, {"issue_date": today.isoformat(), "installments": "1",
                                   "first_due_date": (today + timedelta(days=30)).isoformat()},
                           user=user)
