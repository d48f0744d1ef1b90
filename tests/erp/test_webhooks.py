"""Webhooks (erp/webhooks, issue 18 point 4), against a real HTTP server on 127.0.0.1: each
change's events written in its own transaction (nothing for a rolled-back one), posted by
the worker (here at once: TASKS_IMMEDIATE) signed with HMAC-SHA256, retried after the
receiver was down until it comes back, from every module's records."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from erp.audit import acting_as
from erp.auth.models import User
from erp.db import db, utcnow
from erp.registry import ContractData, WebhookEvent
from erp.webhooks import (
    DELIVERED,
    FAILED,
    QUEUED,
    WebhookDelivery,
    WebhookEndpoint,
    check_url,
    deliver_due,
    emit,
    new_secret,
    send_again,
)
from erp.webhooks.delivery import backoff


class Receiver:
    """A webhook receiver: an HTTP server in a thread that keeps what it is sent, checks
    the signature with the secret it was given (on its own, as a real receiver would) and
    answers ``status``. Stopped and started again on the same port: the endpoint down,
    then back."""

    def __init__(self, secret: str = ""):
        self.secret = secret
        self.received: list[dict] = []
        self.status = 200
        self.port = 0
        self.server = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = "sha256=" + hmac.new(receiver.secret.encode(), body,
                                                hashlib.sha256).hexdigest()
                receiver.received.append({
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body, "json": json.loads(body),
                    "verified": hmac.compare_digest(
                        expected, self.headers.get("X-Mosaic-Signature") or "")})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def events(self) -> list[str]:
        return [r["json"]["event"] for r in self.received]


@pytest.fixture
def local_http(app, monkeypatch):
    """Endpoints may be http://127.0.0.1 (ERP_WEBHOOKS_ALLOW_HTTP_LOCAL), for this test."""
    monkeypatch.setitem(app.config, "ERP_WEBHOOKS_ALLOW_HTTP_LOCAL", True)


@pytest.fixture
def receiver(local_http):
    found = Receiver(secret=new_secret()).start()
    yield found
    found.stop()


def add_endpoint(app, url: str, events, secret: str, active: bool = True) -> int:
    with app.app_context():
        endpoint = WebhookEndpoint(name="Receptor", url=url, secret=secret, active=active,
                                   events=sorted(events))
        db.session.add(endpoint)
        db.session.commit()
        return endpoint.id


def all_event_keys(app) -> list[str]:
    return [item.key for item in app.extensions["erp"].items(WebhookEvent,
                                                                check_permission=False)]


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        found = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        db.session.expunge_all()
        return found


# --- the request: signed, with the event's id, the same body at every attempt --------------


def test_an_account_created_reaches_the_receiver_signed(app, users, make_account, receiver):
    add_endpoint(app, receiver.url, {"crm.account.created"}, receiver.secret)
    account_id = make_account("rep_a", legal_name="Gancho Ltda.")
    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert request["verified"], "the receiver's own HMAC-SHA256 of the body matches"
    headers, payload = request["headers"], request["json"]
    assert headers["content-type"] == "application/json"
    assert headers["x-mosaic-event"] == "crm.account.created"
    assert headers["x-mosaic-event-id"] == payload["id"]
    assert headers["x-mosaic-timestamp"].isdigit()
    assert set(payload) == {"id", "event", "occurred_at", "data"}
    assert payload["event"] == "crm.account.created"
    assert payload["data"]["id"] == account_id
    assert payload["data"]["type"] == "crm_account"
    assert payload["data"]["changes"]["legal_name"] == [None, "Gancho Ltda."]
    assert payload["data"]["actor"] is None  # made outside a request: by the system
    [delivery] = deliveries(app)
    assert (delivery.status, delivery.attempts, delivery.status_code) == (DELIVERED, 1, 200)
    assert delivery.duration_ms is not None and delivery.last_error is None


def test_a_wrong_secret_fails_the_receivers_check(app, make_account, receiver):
    add_endpoint(app, receiver.url, {"crm.account.created"}, new_secret())  # not the receiver's
    make_account("rep_a")
    assert len(receiver.received) == 1 and not receiver.received[0]["verified"]


def test_only_the_subscribed_events_of_active_endpoints_are_written(app, users, make_account,
                                                                   receiver):
    add_endpoint(app, receiver.url, {"crm.contact.created"}, receiver.secret)
    add_endpoint(app, receiver.url, {"crm.account.created"}, receiver.secret, active=False)
    make_account("rep_a")
    assert receiver.received == [] and deliveries(app) == []


def test_an_update_and_a_deletion_are_events_too(app, users, make_account, receiver):
    add_endpoint(app, receiver.url, {"crm.account.updated", "crm.account.deleted"},
                 receiver.secret)
    account_id = make_account("rep_a", legal_name="Antes Ltda.")
    from modules.crm.models import Account

    with app.app_context(), acting_as(db.session.get(User, users["admin"])):
        account = db.session.get(Account, account_id)
        account.legal_name = "Depois Ltda."
        db.session.commit()
        db.session.delete(account)
        db.session.commit()
    assert receiver.events() == ["crm.account.updated", "crm.account.deleted"]
    updated = receiver.received[0]["json"]["data"]
    assert updated["changes"]["legal_name"] == ["Antes Ltda.", "Depois Ltda."]
    assert updated["actor"]["id"] == users["admin"]
    assert all(r["verified"] for r in receiver.received)


# --- the outbox: in the transaction of the change ---------------------------------------------


def test_a_rolled_back_change_sends_nothing(app, users, receiver):
    add_endpoint(app, receiver.url, set(all_event_keys(app)), receiver.secret)
    from modules.crm.models import Account

    with app.app_context():
        owner = db.session.get(User, users["rep_a"])
        db.session.add(Account(legal_name="Desfeita Ltda.", owner_id=owner.id))
        db.session.flush()
        # Written with the change, in its transaction ...
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
        emit("crm.account.merged", {"survivor": 1, "merged": 2})
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 2
        db.session.rollback()
        # ... and gone with it.
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
        assert deliver_due(now=utcnow() + timedelta(days=1)).handled == 0
    assert receiver.received == []


def test_emit_writes_a_module_event_for_the_subscribed_endpoints(app, receiver):
    add_endpoint(app, receiver.url, {"crm.account.merged"}, receiver.secret)
    with app.app_context():
        assert emit("crm.account.merged", {"survivor_id": 7, "merged_id": 8}) == 1
        assert emit("crm.contact.merged", {"survivor_id": 1}) == 0  # nobody listens
        db.session.commit()
    [request] = receiver.received
    assert request["verified"]
    assert request["json"]["event"] == "crm.account.merged"
    assert request["json"]["data"] == {"survivor_id": 7, "merged_id": 8}


def test_a_merge_of_two_accounts_is_an_event(app, users, make_account, receiver):
    """CRM's merge (issue 18, point 2) emits crm.account.merged in its transaction; the
    merged-away account's archiving is an update like any other."""
    from modules.crm.models import Account
    from modules.crm.services import merge as service

    add_endpoint(app, receiver.url, {"crm.account.merged", "crm.account.updated"},
                 receiver.secret)
    survivor, merged = make_account("rep_a", legal_name="Fica Ltda."), make_account("rep_a")
    with app.app_context():
        admin = db.session.get(User, users["admin"])
        with acting_as(admin):
            service.merge("account", db.session.get(Account, survivor),
                          db.session.get(Account, merged), {}, admin)
    by_event = {r["json"]["event"]: r["json"] for r in receiver.received}
    assert set(by_event) == {"crm.account.merged", "crm.account.updated"}
    data = by_event["crm.account.merged"]["data"]
    assert (data["survivor_id"], data["merged_id"]) == (survivor, merged)
    assert all(r["verified"] for r in receiver.received)


def test_emit_refuses_an_event_nobody_declared(app):
    with app.app_context(), pytest.raises(ValueError, match="unknown webhook event"):
        emit("crm.account.teleported", {})


# --- the receiver down, then back ---------------------------------------------------------------


def test_events_wait_while_the_receiver_is_down_and_arrive_when_it_is_back(
        app, make_account, receiver):
    add_endpoint(app, receiver.url, {"crm.account.created"}, receiver.secret)
    receiver.stop()  # down
    first = make_account("rep_a", legal_name="Primeira Ltda.")
    [delivery] = deliveries(app)
    assert (delivery.status, delivery.attempts, delivery.status_code) == (QUEUED, 1, None)
    assert "cannot reach" in delivery.last_error
    assert delivery.next_attempt_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None)
    second = make_account("rep_a", legal_name="Segunda Ltda.")
    with app.app_context():  # still down, and the backoff over: tried again, and kept
        report = deliver_due(now=utcnow() + timedelta(minutes=5))
        assert report.delivered == 0 and report.retried + report.postponed == 2
    assert all(d.status == QUEUED for d in deliveries(app))
    assert max(d.attempts for d in deliveries(app)) == 2

    receiver.start()  # back, on the same port
    with app.app_context():
        report = deliver_due(now=utcnow() + timedelta(hours=2))
    assert report.delivered == 2
    assert sorted(r["json"]["data"]["id"] for r in receiver.received) == [first, second]
    assert all(r["verified"] for r in receiver.received)
    assert all(d.status == DELIVERED for d in deliveries(app))
    with app.app_context():  # nothing is posted twice
        assert deliver_due(now=utcnow() + timedelta(days=1)).handled == 0
    assert len(receiver.received) == 2


def test_an_error_answer_is_retried_with_backoff_then_fails_and_may_be_sent_again(
        app, make_account, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "ERP_WEBHOOKS_MAX_ATTEMPTS", 3)
    add_endpoint(app, receiver.url, {"crm.account.created"}, receiver.secret)
    receiver.status = 500
    make_account("rep_a")
    [delivery] = deliveries(app)
    assert (delivery.status, delivery.status_code, delivery.attempts) == (QUEUED, 500, 1)
    assert delivery.last_error.startswith("HTTP 500")
    with app.app_context():
        later = utcnow() + backoff(1) + timedelta(seconds=1)
        assert deliver_due(now=later).retried == 1
        assert deliver_due(now=later + backoff(2) + timedelta(seconds=1)).failed == 1
    [delivery] = deliveries(app)
    assert (delivery.status, delivery.attempts) == (FAILED, 3)
    event_ids = {r["json"]["id"] for r in receiver.received}
    assert len(receiver.received) == 3 and len(event_ids) == 1, "one event, three tries"
    assert len({r["body"] for r in receiver.received}) == 1, "the same body each time"

    receiver.status = 204
    with app.app_context():
        assert send_again(delivery.id)  # delivered at once (the queue runs in the test)
    [delivery] = deliveries(app)
    assert (delivery.status, delivery.attempts, delivery.status_code) == (DELIVERED, 1, 204)
    assert {r["json"]["id"] for r in receiver.received} == event_ids


# --- every module's events ----------------------------------------------------------------------


def test_every_modules_records_emit_their_events(app, users, make_account, receiver):
    add_endpoint(app, receiver.url, set(all_event_keys(app)), receiver.secret)
    account_id = make_account("rep_a")
    from modules.crm.models import Account, Opportunity
    from modules.crm.services import opportunities as pipeline

    with app.app_context():
        admin = db.session.get(User, users["admin"])
        account = db.session.get(Account, account_id)
        with acting_as(admin):
            for contribution in app.extensions["erp"].items(ContractData,
                                                            check_permission=False):
                contribution.fill(account, admin)
            won = db.session.scalars(
                select(Opportunity).where(Opportunity.account_id == account_id)
                .order_by(Opportunity.id)).first()
            pipeline.mark_won(won, user=admin)
    received = set(receiver.events())
    expected = {"crm.account.created", "crm.contact.created", "crm.opportunity.created",
                "crm.opportunity.updated", "crm.opportunity.won", "sales.quote.created",
                "sales.quote.updated", "sales.order.created", "sales.invoice.created",
                "finance.receivable.created", "finance.payment.created",
                "service.order.created", "service.order.updated"}
    assert expected <= received, expected - received
    assert "crm.opportunity.lost" not in received
    assert all(r["verified"] for r in receiver.received)
    won_event = next(r["json"] for r in receiver.received
                     if r["json"]["event"] == "crm.opportunity.won")
    assert won_event["data"]["changes"]["status"] == ["open", "won"]


def test_every_declared_event_names_an_audited_table(app):
    from erp.audit.recorder import Audited

    audited = {mapper.local_table.name for mapper in db.Model.registry.mappers
               if issubclass(mapper.class_, Audited)}
    items = app.extensions["erp"].items(WebhookEvent, check_permission=False)
    assert {item.table for item in items if item.table} <= audited
    keys = {item.key for item in items}
    for record in ("crm.account", "crm.contact", "crm.opportunity", "sales.quote",
                   "sales.order", "sales.invoice", "finance.receivable", "finance.payment",
                   "service.order"):
        assert {f"{record}.created", f"{record}.updated", f"{record}.deleted"} <= keys
    assert {"crm.account.merged", "crm.contact.merged", "crm.opportunity.won",
            "crm.opportunity.lost"} <= keys


# --- which URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://example.com/hook", "ftp://example.com/hook", "javascript:alert(1)",
    "https://user:secret@example.com/hook", "https:///hook", "https://exa mple.com/",
    "https://example.com:99999/", "https://example.com/#frag", "example.com/hook", "",
    "https://bad_host.example/", "file:///etc/passwd", "http://127.0.0.1:8000/hook",
    "http://10.0.0.1/hook", "https://example.com/\x00",
])
def test_bad_urls_are_refused(app, url):
    with app.test_request_context(), pytest.raises(ValueError):
        check_url(url)


def test_local_http_only_when_the_app_allows_it(app):
    with app.test_request_context():
        assert check_url(" https://hooks.example.com/in?x=1 ") == \
            "https://hooks.example.com/in?x=1"
        assert check_url("http://127.0.0.1:8000/h", allow_http_local=True)
        assert check_url("http://localhost/h", allow_http_local=True)
        with pytest.raises(ValueError):
            check_url("http://192.168.0.10/h", allow_http_local=True)


# --- what it costs a change ---------------------------------------------------------------------


def test_a_transaction_reads_the_endpoints_once_however_many_records_it_writes(
        app, users, local_http, monkeypatch):
    """The outbox asks which endpoints listen once per transaction (the small table of
    endpoints, memoized until commit or rollback), not once per record or flush, and
    writes a flush's deliveries in one INSERT: one account or twenty, one flush or twenty,
    one SELECT; none for a transaction that changes nothing a webhook event names."""
    from erp.testing.queries import count_queries
    from modules.crm.models import Account

    def cost(count: int, flushes: bool) -> tuple[int, int]:
        with app.app_context():
            owner = db.session.get(User, users["rep_a"])
            owner_id = owner.id
            db.session.commit()
            with count_queries(app) as log:
                for i in range(count):
                    db.session.add(Account(legal_name=f"Custo {count} {i} Ltda.",
                                           owner_id=owner_id))
                    if flushes:
                        db.session.flush()
                db.session.commit()
                owner = db.session.get(User, owner_id)
                owner.name = f"Ana {count}"  # no webhook event names users
                db.session.commit()
            db.session.remove()
        reads = sum("erp_webhook_endpoint" in sql for sql in log)
        writes = sum(sql.lstrip().upper().startswith("INSERT INTO ERP_WEBHOOK_DELIVERY")
                     for sql in log)
        return reads, writes

    assert cost(1, True) == (1, 0)  # nobody listens: nothing written
    assert cost(20, False) == (1, 0)
    add_endpoint(app, "http://127.0.0.1:9/never", {"crm.account.created"}, new_secret(),
                 active=True)
    # Nobody at that port: keep the deliveries queued.
    monkeypatch.setitem(app.config, "ERP_WEBHOOKS_DELIVER_ON_QUEUE", False)
    assert cost(1, True) == (1, 1)
    assert cost(20, False) == (1, 1)  # one flush: one INSERT of 20 rows
    assert cost(20, True) == (1, 20)  # twenty flushes, still one SELECT
    assert len(deliveries(app)) == 41


def test_delivered_ones_leave_the_log_after_the_days_kept(app, make_account, receiver):
    from erp.webhooks.delivery import prune

    add_endpoint(app, receiver.url, {"crm.account.created"}, receiver.secret)
    make_account("rep_a")
    receiver.stop()
    make_account("rep_a")  # waiting: the receiver is down
    assert sorted(d.status for d in deliveries(app)) == [DELIVERED, QUEUED]
    with app.app_context():
        assert prune() == 0  # delivered today
        assert prune(now=utcnow() + timedelta(days=31)) == 1
    assert [d.status for d in deliveries(app)] == [QUEUED]  # kept until delivered
