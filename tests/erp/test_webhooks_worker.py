"""Webhooks through the real worker process (issue 18): the receiver down, then back;
every event posted once it is up, each exactly once, signed."""

from __future__ import annotations

import signal
from collections import Counter

import pytest
from sqlalchemy import select, update

from erp import create_app
from erp.db import db, utcnow, writing
from erp.setup import upgrade_database
from erp.testing.smtp import free_port
from erp.webhooks import (
    DELIVERED,
    QUEUED,
    WebhookDelivery,
    WebhookEndpoint,
    deliver_webhooks,
    emit,
    new_secret,
)
from tests.erp.test_webhooks import Receiver
from tests.erp.worker import (
    app_config,
    running_worker,
    stop_worker,
    wait_ready,
    wait_until,
    worker_env,
)

EVENTS = 4


@pytest.fixture
def worker_setup(tmp_path):
    env = worker_env(f"sqlite:///{tmp_path / 'erp.sqlite3'}", tmp_path,
                     ERP_WEBHOOKS_TIMEOUT=5)
    app = create_app(app_config(env, ERP_WEBHOOKS_TIMEOUT=5))
    upgrade_database(app)
    yield env, app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_receiver_down_then_up_every_event_delivered_exactly_once(worker_setup):
    env, app = worker_setup
    receiver = Receiver(secret=new_secret())
    receiver.port = free_port()  # nothing listens there until the receiver starts
    with app.app_context():
        db.session.add(WebhookEndpoint(name="Receptor", url=receiver.url,
                                       secret=receiver.secret, events=["crm.account.merged"]))
        db.session.commit()
        db.session.remove()
    with running_worker(env) as worker:
        wait_ready(worker)
        # Each in its own write transaction (each asks for a pass), as a merge's request
        # emits it: begun as a read, its insert would fail at once on SQLite whenever the
        # worker committed since the read (a stale snapshot; no busy wait helps).
        with app.app_context(), writing():
            for n in range(EVENTS):
                emit("crm.account.merged", {"survivor_id": n, "merged_id": 100 + n})
                db.session.commit()
            db.session.remove()

        # Receiver down: tried, and what waits behind an unreachable endpoint is put off
        # to the same moment (its attempts untouched): nothing is lost or given up.
        def all_put_off():
            rows = deliveries(app)
            return len(rows) == EVENTS and all(
                row.next_attempt_at > row.created_at for row in rows) and rows

        rows = wait_until(all_put_off, worker=worker, message="for the attempts while down")
        assert {row.status for row in rows} == {QUEUED}
        assert any("cannot reach" in (row.last_error or "") for row in rows)

        receiver.start()
        try:
            with app.app_context():  # due now (no waiting out the backoff), and a pass asked
                db.session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
                db.session.commit()
                deliver_webhooks.enqueue()
                db.session.remove()
            rows = wait_until(lambda: (rows := deliveries(app))
                              and all(row.status == DELIVERED for row in rows) and rows,
                              worker=worker, message="for delivery once the receiver is up")
        finally:
            receiver.stop()
        received = Counter(r["json"]["id"] for r in receiver.received)
        assert received == Counter({row.event_id: 1 for row in rows})
        assert all(r["verified"] for r in receiver.received)
        assert sorted(r["json"]["data"]["survivor_id"] for r in receiver.received) == \
            list(range(EVENTS))
        assert stop_worker(worker, signal.SIGINT) == 0
