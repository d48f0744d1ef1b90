"""Record factories for tests: an account and a contact made through CRM's own services.

Registered as ``erp.registry.Factory`` items; the test kit's ``make_account`` and
``make_contact`` fixtures (erp.testing) call them, so any module's tests can make accounts
without importing CRM.
"""

from __future__ import annotations

from erp.db import db
from erp.registry import Factory

from .models import Account
from .services.accounts import create_account
from .services.contacts import create_contact


def make_account(user, **data) -> Account:
    """An account owned by ``user`` ("Conta Teste Ltda." unless ``legal_name`` is given);
    a similar account already there does not stop it."""
    data.setdefault("legal_name", "Conta Teste Ltda.")
    return create_account(data, user=user, confirm_duplicates=True)


def make_contact(user, account_id: int | None = None, role: str | None = None, **data):
    """A contact owned by ``user``, linked to account ``account_id`` in ``role`` if given."""
    account = db.session.get(Account, account_id) if account_id else None
    return create_contact(data, user=user, account=account, role=role)


FACTORIES = (Factory("account", make_account), Factory("contact", make_contact))
