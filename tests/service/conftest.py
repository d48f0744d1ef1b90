"""Service fixtures: CRM's account fixtures (borrowed), and orders made through the services."""

from __future__ import annotations

import pytest

from erp.auth.models import Role, User
from erp.db import db
from tests.crm import conftest as crm_fixtures

# The CRM fixtures (tests/crm/conftest.py) are not visible from here: borrow them
# (make_account and make_contact are the test kit's, everywhere).
make_opportunity = crm_fixtures.make_opportunity
pipeline = crm_fixtures.pipeline


@pytest.fixture
def make_order(app, users):
    """Open a service order through the service (as the service clerk); returns its id.

    ``status`` moves it along the allowed path (open -> in_progress -> done / cancelled).
    """
    from modules.crm.models import Account
    from modules.service import services

    path = {"open": [], "in_progress": ["in_progress"], "done": ["in_progress", "done"],
            "cancelled": ["cancelled"]}

    def factory(account_id: int, *, status: str = "open", user: str = "service", **data):
        with app.app_context():
            actor = db.session.get(User, users[user])
            data.setdefault("description", "Instalar o servidor")
            data.setdefault("technician_id", users["service"])
            data.setdefault("items", [{"description": "Cabo", "quantity": "2",
                                       "unit_price": "50,00"}])
            order = services.create_order(db.session.get(Account, account_id), data,
                                          user=actor)
            for step in path[status]:
                services.change_status(order, step, user=actor)
            order_id = order.id
            db.session.remove()
        return order_id

    return factory


@pytest.fixture
def reps_do_service(app, users):
    """Give the sales reps service.read/write, to test record scope (not granted by default)."""
    with app.app_context():
        role = db.session.scalar(db.select(Role).where(Role.name == "sales_rep"))
        role.permissions = sorted({*role.permissions, "service.read", "service.write"})
        db.session.commit()
        db.session.remove()
