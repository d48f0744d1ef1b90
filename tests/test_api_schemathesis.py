"""A property-based run of the OpenAPI description: every operation of /api/v1 that an
enabled module contributes (found by module from the registry's API blueprints: CRM's and
the Notes example's), with
data generated from /api/v1/openapi.json (schemathesis), against the app in-process.

Each operation is one test: its examples, the coverage phase's boundary and invalid
cases, then ``MAX_EXAMPLES`` generated requests, as the sales manager over seeded
records (the manager's, their team's and another team's), checking that no answer is
a 5xx and that every answer conforms to the document (status codes, content types,
headers, bodies); valid requests must get a 2xx, or a 404/409/422 from a rule.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy import select, text

from erp import create_app
from erp.api.models import ApiToken
from erp.api.tokens import hash_token
from erp.auth.models import User
from erp.db import db
from erp.testing.contract_checks import module_operations
from tests.conftest import base_config

MAX_EXAMPLES = 20
# Schema-valid data may still break a rule of the services, which no JSON schema can say
# (a CNPJ's check digits, a customer's tax data, an owner you may assign): a 422; or name
# a record that is not there or not the manager's to see (404), or a duplicate (409).
ACCEPTED = ["2xx", "404", "409", "422"]
# The manager's token, given to schemathesis as the document's bearerAuth (so that the
# cases it makes without a token, on purpose, go without).
TOKEN = "mos_schemathesis-property-run-token-0123456789"  # noqa: S105


class _App:
    """The WSGI app schemathesis calls: a document-only app while collecting, then each
    test's own (on the test database)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


TARGET = _App(create_app(base_config("sqlite://")))
OPERATIONS = module_operations(TARGET.app, [m.name for m in TARGET.app.extensions["erp_modules"]])
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", TARGET,
                                        config=schemathesis.Config.from_dict({
                                            "generation": {"max-examples": MAX_EXAMPLES},
                                            "phases": {"stateful": {"enabled": False}},
                                            "checks": {"positive_data_acceptance": {
                                                "expected-statuses": ACCEPTED}},
                                            "auth": {"openapi": {
                                                "bearerAuth": {"bearer": TOKEN}}},
                                        })).include(
    # Every enabled module's operations, found by module (erp.testing.contract).
    lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in OPERATIONS)


@pytest.fixture(scope="module")
def api_app(app, database_url):
    """The app on the test database, with a rate limit the run does not reach (thousands
    of requests a minute with one token: the limit has tests of its own)."""
    return create_app(base_config(database_url, API_RATE_LIMIT="1000000 per minute"))


@pytest.fixture
def seeded(app, users):
    """Records of every kind with small ids (the generated ids hit some), and the
    manager's token."""
    from modules.crm.models import Category, Tag
    from modules.crm.services.accounts import create_account
    from modules.crm.services.actions import create_action
    from modules.crm.services.contacts import create_contact
    from modules.crm.services.opportunities import create_opportunity
    from modules.crm.services.settings import ensure_defaults

    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # the ids start at 1 there too
            for table in ("crm_account", "crm_contact", "crm_opportunity", "crm_action",
                          "crm_stage", "crm_loss_reason", "crm_tag", "crm_category",
                          "sales_product", "sales_quote", "sales_order", "sales_invoice",
                          "finance_receivable", "finance_payment", "service_order",
                          "service_invoice"):
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false)"))
        ensure_defaults()
        db.session.add_all([Tag(name="VIP"), Category(name="Indústria")])
        db.session.commit()
        for owner in ("manager", "rep_a", "rep_c"):
            user = db.session.get(User, users[owner])
            account = create_account({"legal_name": f"Conta de {owner}"}, user=user,
                                     confirm_duplicates=True)
            contact = create_contact({"name": f"Contato de {owner}"}, user=user,
                                     account=account, role="Compras")
            opportunity = create_opportunity({"account_id": account.id, "title": "ERP",
                                              "contact_id": contact.id}, user=user)
            create_action({"account_id": account.id, "opportunity_id": opportunity.id,
                           "kind": "call"}, user=user)
        _seed_documents(users)
        db.session.add(ApiToken(user_id=users["manager"], name="schemathesis",
                                prefix=TOKEN[:12], token_hash=hash_token(TOKEN)))
        db.session.commit()
        db.session.remove()


def _seed_documents(users) -> None:
    """Sales, finance and service records on each seeded account (issue 18), and the
    manager given the two writes their role lacks (finance.write, service.write), so that
    every operation runs in the manager's team scope rather than answering 403."""
    from erp.auth.models import Role
    from modules.crm.models import Account
    from modules.finance import services as finance
    from modules.sales import services as sales
    from modules.service import services as service

    role = db.session.scalar(select(Role).where(Role.name == "sales_manager"))
    role.permissions = [*role.permissions, "finance.write", "service.write"]
    sales.create_product({"code": "P-1", "name": "Cabo", "price": "10,00"})
    clerk = db.session.get(User, users["service"])
    for account in db.session.scalars(select(Account).order_by(Account.id)).all():
        owner = account.owner
        line = [{"description": "Consultoria", "quantity": "1", "unit_price": "100,00"}]
        sales.create_quote(account, {"valid_until": "2099-12-31", "lines": line}, user=owner)
        order = sales.create_order(account, {"lines": line}, user=owner)
        sales.issue_invoice(order, {"installments": "2", "first_due_date": "2099-12-31"},
                            user=owner)
        (receivable, *_rest) = finance.create_receivables(
            account, {"document": "Avulso", "amount": "50,00", "due_date": "2099-12-31"},
            user=owner)
        finance.record_payment(receivable, {"amount": "5,00", "method": "pix"}, user=owner)
        service_order = service.create_order(account, {
            "description": "Instalar", "technician_id": clerk.id,
            "items": [{"description": "Cabo", "unit_price": "50,00"}]}, user=clerk)
        service.change_status(service_order, "in_progress", user=clerk)
        service.change_status(service_order, "done", user=clerk)
        service.issue_invoice(service_order, {"due_date": "2099-12-31"}, user=clerk)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
def test_the_api_keeps_its_description(case, api_app, seeded):
    TARGET.app = api_app
    case.call_and_validate()
