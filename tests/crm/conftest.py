"""CRM fixtures: accounts and contacts made through the real services."""

from __future__ import annotations

import pytest

from erp.auth.models import User
from erp.db import db
from modules.crm.services.accounts import create_account
from modules.crm.services.contacts import create_contact


@pytest.fixture
def make_account(app, users):
    """Create an account as (and owned by) one of the ``users``; returns its id."""

    def factory(owner: str = "rep_a", **data):
        with app.app_context():
            user = db.session.get(User, users[owner])
            data.setdefault("legal_name", "Conta Teste Ltda.")
            account = create_account(data, user=user, confirm_duplicates=True)
            account_id = account.id
            db.session.remove()
        return account_id

    return factory


@pytest.fixture
def make_contact(app, users):
    def factory(owner: str = "rep_a", account_id: int | None = None, role: str | None = None,
                **data):
        from modules.crm.models import Account

        with app.app_context():
            user = db.session.get(User, users[owner])
            account = db.session.get(Account, account_id) if account_id else None
            contact = create_contact(data, user=user, account=account, role=role)
            contact_id = contact.id
            db.session.remove()
        return contact_id

    return factory


@pytest.fixture
def pipeline(app):
    """The default stages and loss reasons; returns their ids by name."""
    from modules.crm.models import LossReason, Stage
    from modules.crm.services.settings import ensure_defaults

    with app.app_context():
        ensure_defaults()
        stages = {s.name: s.id for s in db.session.scalars(db.select(Stage))}
        reasons = {r.name: r.id for r in db.session.scalars(db.select(LossReason))}
        db.session.remove()
    return {"stages": stages, "reasons": reasons}


@pytest.fixture
def make_opportunity(app, users, pipeline):
    """Create an opportunity through the service; returns its id."""
    from modules.crm.services.opportunities import create_opportunity

    def factory(account_id: int, owner: str = "rep_a", **data):
        with app.app_context():
            user = db.session.get(User, users[owner])
            data.setdefault("title", "Oportunidade")
            data.setdefault("stage_id", pipeline["stages"]["Prospecção"])
            opportunity = create_opportunity({"account_id": account_id, **data}, user=user)
            opportunity_id = opportunity.id
            db.session.remove()
        return opportunity_id

    return factory
