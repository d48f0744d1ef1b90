"""Admin → Webhooks (erp/webhooks/admin.py): admins only, CSRF on every form and button,
bad URLs refused with a reason, a new endpoint's secret, the delivery log in the user's
language with "Send again"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from erp.auth.models import User
from erp.db import db
from erp.webhooks import DELIVERED, FAILED, WebhookDelivery, WebhookEndpoint, emit
from tests.conftest import csrf_token
from tests.erp.test_webhooks import Receiver

NEW = "/admin/webhook_endpoint/new/"
LIST = "/admin/webhook_endpoint/"
LOG = "/admin/webhook-deliveries/"


@pytest.fixture
def admin(client_as):
    return client_as("admin")


def form(client, **values) -> dict:
    data = {"csrf_token": csrf_token(client, NEW), "name": "ERP do cliente",
            "url": "https://hooks.example.com/mosaic", "events": ["crm.account.created"],
            "active": "y"}
    data.update(values)
    return data


def endpoints(app) -> list[WebhookEndpoint]:
    with app.app_context():
        found = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
        db.session.expunge_all()
        return found


@pytest.mark.parametrize("path", [LIST, NEW, LOG])
def test_only_admins_open_the_webhook_pages(client, client_as, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.location
    for name in ("manager", "rep_a", "finance", "nobody"):
        assert client_as(name).get(path).status_code == 403
    assert client_as("admin").get(path).status_code == 200


def test_an_admin_registers_an_endpoint_and_gets_its_secret(app, admin):
    page = admin.get(NEW).get_data(as_text=True)
    assert "crm.opportunity.won" in page and "sales.quote.created" in page
    answer = admin.post(NEW, data=form(admin, events=["crm.account.created",
                                                      "sales.quote.created"]))
    assert answer.status_code == 302
    [endpoint] = endpoints(app)
    assert endpoint.url == "https://hooks.example.com/mosaic"
    assert endpoint.events == ["crm.account.created", "sales.quote.created"]
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    details = admin.get(f"{LIST}details/?id={endpoint.id}").get_data(as_text=True)
    assert endpoint.secret in details

    # A new secret (a button: CSRF-checked, confirmed by the browser).
    token = csrf_token(admin, f"{LIST}details/?id={endpoint.id}")
    assert admin.post(f"{LIST}new-secret/", data={"id": endpoint.id}).status_code == 400
    assert endpoints(app)[0].secret == endpoint.secret
    answer = admin.post(f"{LIST}new-secret/", data={"id": endpoint.id, "csrf_token": token})
    assert answer.status_code == 302
    assert endpoints(app)[0].secret not in (endpoint.secret, "")


def test_saving_an_endpoint_needs_the_csrf_token(app, admin):
    data = form(admin)
    del data["csrf_token"]
    assert admin.post(NEW, data=data).status_code in (200, 400)
    assert endpoints(app) == []


@pytest.mark.parametrize(("url", "reason"), [
    ("http://hooks.example.com/in", "Only HTTPS URLs are allowed"),
    ("https://ana:senha@hooks.example.com/in", "may not hold a user name or password"),
    ("ftp://hooks.example.com/in", "must start with https://"),
    ("javascript:alert(1)", "must start with https://"),
    ("https://hooks example.com/", "spaces"),
    ("http://127.0.0.1:9/in", "Only HTTPS URLs are allowed"),  # not allowed by this app
])
def test_bad_urls_are_refused_with_a_reason(app, admin, url, reason):
    page = admin.post(NEW, data=form(admin, url=url))
    assert page.status_code == 200
    assert reason in page.get_data(as_text=True)
    assert endpoints(app) == []


def test_an_endpoint_wants_at_least_one_event(app, admin):
    page = admin.post(NEW, data=form(admin, events=[]))
    assert "Choose at least one event." in page.get_data(as_text=True)
    assert endpoints(app) == []


def test_the_delivery_log_in_portuguese_and_send_again(app, users, client_as, monkeypatch):
    receiver = Receiver(secret="whsec_teste").start()
    monkeypatch.setitem(app.config, "ERP_WEBHOOKS_ALLOW_HTTP_LOCAL", True)
    try:
        with app.app_context():
            endpoint = WebhookEndpoint(name="Receptor local", url=receiver.url,
                                       secret=receiver.secret, events=["crm.account.merged"])
            db.session.add(endpoint)
            db.session.flush()
            emit("crm.account.merged", {"survivor_id": 1, "merged_id": 2})
            db.session.commit()
            delivery = db.session.scalars(select(WebhookDelivery)).one()
            assert delivery.status == DELIVERED
            delivery.status = FAILED  # as if it had failed for good
            db.session.commit()
            delivery_id = delivery.id
            admin_user = db.session.get(User, users["admin"])
            admin_user.locale = "pt_BR"
            db.session.commit()
        admin = client_as("admin")
        page = admin.get(LOG).get_data(as_text=True)
        assert "Entregas de webhooks" in page and "Falhou" in page
        assert "Contas mescladas (crm.account.merged)" in page
        assert "Receptor local" in page and "Enviar novamente" in page
        detail = admin.get(f"{LOG}view/?id={delivery_id}").get_data(as_text=True)
        assert "survivor_id" in detail
        assert admin.get(f"{LOG}view/?id=999999").status_code == 302

        assert admin.post(f"{LOG}send-again/", data={"id": delivery_id}).status_code == 400
        token = csrf_token(admin, LOG)
        answer = admin.post(f"{LOG}send-again/", data={"id": delivery_id, "csrf_token": token,
                                                      "next": "https://evil.example/"})
        assert answer.status_code == 302 and answer.location.endswith(LOG)
        assert len(receiver.received) == 2  # posted again, the same event
        assert len({r["json"]["id"] for r in receiver.received}) == 1
        page = admin.get(LOG).get_data(as_text=True)
        assert re.search(r"Entregue", page)
        assert client_as("manager").post(f"{LOG}send-again/", data={
            "id": delivery_id, "csrf_token": token}).status_code in (400, 403)
    finally:
        receiver.stop()


def test_editing_keeps_the_secret_and_deleting_takes_the_log_along(app, admin, monkeypatch):
    admin.post(NEW, data=form(admin))
    [endpoint] = endpoints(app)
    edit = f"{LIST}edit/?id={endpoint.id}"
    page = admin.get(edit).get_data(as_text=True)
    [checked] = [tag for tag in re.findall(r'<input[^>]*\bchecked\b[^>]*>', page)
                 if 'name="events"' in tag]
    assert 'value="crm.account.created"' in checked
    answer = admin.post(edit, data={
        "csrf_token": csrf_token(admin, edit), "name": "Renomeado",
        "url": "https://other.example.com/in", "events": ["crm.contact.created"]})
    assert answer.status_code == 302
    [edited] = endpoints(app)
    assert (edited.name, edited.url, edited.events, edited.active, edited.secret) == (
        "Renomeado", "https://other.example.com/in", ["crm.contact.created"], False,
        endpoint.secret)
    bad = admin.post(edit, data={"csrf_token": csrf_token(admin, edit), "name": "X",
                                 "url": "http://other.example.com/in",
                                 "events": ["crm.contact.created"]})
    assert "Only HTTPS URLs are allowed" in bad.get_data(as_text=True)
    assert endpoints(app)[0].url == "https://other.example.com/in"

    with app.app_context():
        db.session.add(WebhookEndpoint(name="Outro", url="https://x.example.com/",
                                       secret="s", events=["crm.account.merged"]))
        db.session.get(WebhookEndpoint, edited.id).active = True
        db.session.get(WebhookEndpoint, edited.id).events = ["crm.account.merged"]
        db.session.commit()
        monkeypatch.setitem(app.config, "ERP_WEBHOOKS_DELIVER_ON_QUEUE", False)
        emit("crm.account.merged", {"survivor_id": 1})
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 2
    answer = admin.post(f"{LIST}delete/", data={"id": edited.id,
                                                "csrf_token": csrf_token(admin, LIST)})
    assert answer.status_code == 302
    with app.app_context():
        left = db.session.scalars(select(WebhookDelivery)).all()
        assert [d.endpoint.name for d in left] == ["Outro"]
