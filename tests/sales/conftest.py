"""Sales fixtures: the CRM fixtures borrowed, an account with a contact, and helpers."""

from __future__ import annotations

import pytest

from erp.auth.models import User
from erp.db import db
from tests.crm import conftest as crm_fixtures

# The CRM fixtures (tests/crm/conftest.py) are not visible from here: borrow them
# (make_account and make_contact are the test kit's, everywhere).
pipeline = crm_fixtures.pipeline
make_opportunity = crm_fixtures.make_opportunity


@pytest.fixture
def account(make_account):
    return make_account(legal_name="Cliente Vendas Ltda.")


@pytest.fixture
def contact(make_contact, account):
    return make_contact(name="Ana Compras", email="ana@cliente.example", account_id=account,
                        role="Compras")


@pytest.fixture
def as_user(app, users):
    """Run a service as one of the ``users``: as_user("rep_a") -> the User (in app context)."""

    def get(name: str = "rep_a") -> User:
        return db.session.get(User, users[name])

    return get
