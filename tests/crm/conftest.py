"""CRM fixtures: the pipeline and opportunities made through the real services (accounts
and contacts: the test kit's ``make_account`` and ``make_contact``, made by CRM's factories)."""

from __future__ import annotations

import pytest

from erp.auth.models import User
from erp.db import db


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
