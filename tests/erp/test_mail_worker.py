"""Mail through the real worker process: SMTP down, then up; each message delivered once."""

from __future__ import annotations

import signal
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from erp import create_app
from erp.db import db, utcnow
from erp.mail import QUEUED, SENT, OutboxMessage, deliver_mail, queue_mail
from erp.setup import upgrade_database
from tests.erp.worker import (
    app_config,
    running_worker,
    stop_worker,
    wait_ready,
    wait_until,
    worker_env,
)
from tests.smtp import Collector, free_port

MESSAGES = 4


@pytest.fixture
def worker_setup(tmp_path):
    """A database file with the schema, the worker's environment and the test's own app."""
    port = free_port()  # nothing listens on it until the test starts the SMTP server
    env = worker_env(f"sqlite:///{tmp_path / 'erp.sqlite3'}", tmp_path,
                     ERP_MAIL_SERVER="127.0.0.1", ERP_MAIL_PORT=port, ERP_MAIL_TIMEOUT=5,
                     ERP_MAIL_FROM="Mosaic ERP <erp@mosaic.example>")
    app = create_app(app_config(env, ERP_MAIL_SERVER="127.0.0.1", ERP_MAIL_PORT=port,
                                ERP_MAIL_TIMEOUT=5, ERP_MAIL_DELIVER_ON_QUEUE=True,
                                ERP_MAIL_FROM="Mosaic ERP <erp@mosaic.example>"))
    upgrade_database(app)
    yield env, app, port
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_smtp_down_then_up_every_message_delivered_exactly_once(worker_setup):
    env, app, port = worker_setup
    with running_worker(env) as worker:
        wait_ready(worker)
        # Each in its own transaction: each commit asks the worker for a delivery pass.
        with app.app_context():
            for n in range(MESSAGES):
                queue_mail(f"cliente{n}@example.com", f"Mensagem {n}", f"Corpo {n}",
                           source="tests.worker")
                db.session.commit()
            db.session.remove()

        # SMTP down: the worker tries (one message per pass), nothing is lost or given up.
        def all_tried():
            rows = outbox(app)
            return all(row.attempts >= 1 for row in rows) and rows

        rows = wait_until(all_tried, worker=worker, message="for the attempts while SMTP is down")
        assert {row.status for row in rows} == {QUEUED}
        assert all("cannot reach the SMTP server" in row.last_error for row in rows)

        server = Controller(Collector(), hostname="127.0.0.1", port=port)
        server.start()
        try:
            # Due now (no waiting out the backoff), and a pass asked for through the queue.
            with app.app_context():
                db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
                db.session.commit()
                deliver_mail.enqueue()
                db.session.remove()
            rows = wait_until(lambda: (rows := outbox(app))
                              and all(row.status == SENT for row in rows) and rows,
                              worker=worker, message="for delivery once SMTP is up")
            delivered = Counter(server.handler.parsed(i)["Message-ID"]
                                for i in range(len(server.handler.envelopes)))
        finally:
            server.stop()
        assert delivered == Counter({row.message_id: 1 for row in rows})
        assert len(delivered) == MESSAGES
        assert all(row.attempts == 2 and row.last_error is None for row in rows)

        assert stop_worker(worker, signal.SIGINT) == 0
