"""Posting the webhook outbox: the worker's side.

Each due delivery is claimed (``UPDATE ... WHERE status = 'queued'`` changing one row: two
workers never post the same one), posted with no transaction open, and its outcome
written by an ``UPDATE`` of its own. A 2xx answer delivers it; anything else (another
status, no answer, a timeout) is a failed attempt: queued again after a backoff (30 s,
1 min, 2 min, ... at most 1 h) until ``ERP_WEBHOOKS_MAX_ATTEMPTS``, then ``failed`` (an
admin may send it again). An endpoint that cannot be reached in a pass is not tried again
in that pass: its other due deliveries wait for the same moment, their attempts untouched.
Delivery is *at least once*: receivers tell repeats apart by the event id.

The request (:func:`request_for`)::

    POST <endpoint url>
    Content-Type: application/json
    X-Mosaic-Event: sales.quote.created
    X-Mosaic-Event-Id: <uuid>          # the same for every endpoint and every attempt
    X-Mosaic-Delivery: <delivery id>
    X-Mosaic-Timestamp: <unix seconds of this attempt>
    X-Mosaic-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the endpoint's secret>

    {"data": {...}, "event": "...", "id": "<uuid>", "occurred_at": "2026-11-30T02:30:00+00:00"}

Configuration (``app.config``, or the environment with the same name):
``ERP_WEBHOOKS_MAX_ATTEMPTS`` (default 15), ``ERP_WEBHOOKS_TIMEOUT`` (seconds, default
10), ``ERP_WEBHOOKS_DELIVER_ON_QUEUE`` (default true: a commit that wrote deliveries asks
the worker for a pass at once; else the periodic pass, every minute),
``ERP_WEBHOOKS_ALLOW_HTTP_LOCAL`` (default false: endpoints are HTTPS only; true also
allows ``http://127.0.0.1`` and ``http://localhost``, for tests and local receivers),
``ERP_WEBHOOKS_KEEP_DAYS`` (default 30: delivered ones older than that leave the log, daily).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import case, delete, func, select, update

from ..db import db, utcnow, writing
from ..outbox import claim
from ..tasks import enqueue_after_commit, on_worker_start, periodic_task, task
from .models import DELIVERED, FAILED, QUEUED, SENDING, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 15
DEFAULT_TIMEOUT = 10
DEFAULT_KEEP_DAYS = 30
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
STUCK_AFTER = timedelta(minutes=10)
PASS_LIMIT = 50
MAX_PASSES = 20
ERROR_MAX = 500
SIGNATURE_HEADER = "X-Mosaic-Signature"
USER_AGENT = "Mosaic-ERP-Webhooks/1"


def _config(key: str, default):
    value = current_app.config.get(key)
    return default if value is None or value == "" else value


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s, 1 min, 2 min, ... at most 1 h."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def body_of(delivery: WebhookDelivery) -> bytes:
    """The JSON body: the same bytes at every attempt (keys sorted, compact, UTF-8)."""
    return json.dumps({"id": delivery.event_id, "event": delivery.event,
                       "occurred_at": _aware(delivery.occurred_at).astimezone(UTC).isoformat(),
                       "data": delivery.data},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver checks (in constant time): the header signs exactly this body."""
    return bool(header) and hmac.compare_digest(signature(secret, body), header)


def request_for(delivery: WebhookDelivery, secret: str, now: datetime | None = None
                ) -> tuple[bytes, dict[str, str]]:
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Mosaic-Event": delivery.event,
        "X-Mosaic-Event-Id": delivery.event_id,
        "X-Mosaic-Delivery": str(delivery.id),
        "X-Mosaic-Timestamp": str(int((now or utcnow()).timestamp())),
        SIGNATURE_HEADER: signature(secret, body),
    }
    return body, headers


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    postponed: int = 0  # their endpoint was down in this pass: not tried, attempts kept
    recovered: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retried + self.failed + self.postponed

    def __str__(self) -> str:
        return (f"delivered {self.delivered}, retried {self.retried}, failed {self.failed}, "
                f"postponed {self.postponed}, recovered {self.recovered}")


def recover_stuck(now: datetime) -> int:
    """Queue again what a crashed worker left in ``sending`` (the lost attempt counts)."""
    cutoff = now - STUCK_AFTER
    max_attempts = int(_config("ERP_WEBHOOKS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    result = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.status == SENDING, WebhookDelivery.next_attempt_at <= cutoff)
        .values(attempts=func.coalesce(WebhookDelivery.attempts, 0) + 1,
                last_error="the worker stopped while posting it; it may have been "
                           "delivered already",
                status=case((func.coalesce(WebhookDelivery.attempts, 0) + 1 >= max_attempts,
                             FAILED), else_=QUEUED),
                next_attempt_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


@dataclass
class _Attempt:
    status: str
    status_code: int | None
    error: str | None
    duration_ms: int
    unreachable: bool = False


def _post(url: str, body: bytes, headers: dict[str, str]) -> _Attempt:
    timeout = float(_config("ERP_WEBHOOKS_TIMEOUT", DEFAULT_TIMEOUT))
    started = time.monotonic()
    try:
        # No redirects: the admin registered this URL, not wherever it points to.
        response = requests.post(url, data=body, headers=headers, timeout=timeout,
                                 allow_redirects=False)
    except requests.ConnectionError as exc:
        return _Attempt(QUEUED, None, f"cannot reach the endpoint: {_short(exc)}",
                        _ms(started), unreachable=True)
    except requests.Timeout as exc:
        return _Attempt(QUEUED, None, f"no answer within {timeout:g} s: {_short(exc)}",
                        _ms(started), unreachable=True)
    except requests.RequestException as exc:
        return _Attempt(QUEUED, None, f"{type(exc).__name__}: {_short(exc)}", _ms(started))
    duration = _ms(started)
    if 200 <= response.status_code < 300:
        return _Attempt(DELIVERED, response.status_code, None, duration)
    text = " ".join((response.text or "")[:200].split())
    return _Attempt(QUEUED, response.status_code,
                    f"HTTP {response.status_code}" + (f": {text}" if text else ""), duration)


def _ms(started: float) -> int:
    return int(round((time.monotonic() - started) * 1000))


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= ERROR_MAX else text[:ERROR_MAX - 1] + "…"


def _save(delivery_id: int, values: dict) -> None:
    result = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == SENDING)
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:
        log.warning("webhook delivery %s: outcome not recorded, it was no longer 'sending'",
                    delivery_id)


def deliver_due(limit: int = PASS_LIMIT, now: datetime | None = None) -> DeliveryReport:
    """Post up to ``limit`` due deliveries of active endpoints (needs an app context): one
    pass of the worker. ``now`` (UTC) defaults to the current time; tests pass a later
    one to skip a backoff."""
    now = _aware(now or utcnow())
    report = DeliveryReport(recovered=recover_stuck(now))
    due = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.status == QUEUED, WebhookDelivery.next_attempt_at <= now,
               WebhookEndpoint.active.is_(True))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)).all()
    db.session.commit()
    max_attempts = int(_config("ERP_WEBHOOKS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    down: dict[int, datetime] = {}  # endpoint id -> when its deliveries are tried again
    for delivery_id, endpoint_id in due:
        if endpoint_id in down:
            report.postponed += db.session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == QUEUED)
                .values(next_attempt_at=down[endpoint_id])
                .execution_options(synchronize_session=False)).rowcount
            db.session.commit()
            continue
        if not claim(WebhookDelivery, delivery_id, now):
            continue  # another worker has it
        delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        url, secret = endpoint.url, endpoint.secret
        body, headers = request_for(delivery, secret)
        attempts = (delivery.attempts or 0) + 1
        db.session.commit()  # no transaction (nor SQLite lock) held while posting
        outcome = _post(url, body, headers)
        values = {"attempts": attempts, "status_code": outcome.status_code,
                  "last_error": outcome.error, "duration_ms": outcome.duration_ms,
                  "last_attempt_at": now}
        if outcome.status == DELIVERED:
            values.update(status=DELIVERED, delivered_at=utcnow())
            report.delivered += 1
        elif attempts >= max_attempts:
            values.update(status=FAILED)
            report.failed += 1
            log.error("webhook delivery %s failed for good after %d attempt(s): %s",
                      delivery_id, attempts, outcome.error)
        else:
            values.update(status=QUEUED, next_attempt_at=now + backoff(attempts))
            report.retried += 1
            if outcome.unreachable:
                down[endpoint_id] = values["next_attempt_at"]
            log.warning("webhook delivery %s not delivered (attempt %d): %s",
                        delivery_id, attempts, outcome.error)
        _save(delivery_id, values)
    if due:
        log.info("webhook pass: %s", report)
    return report


def deliver_pending(limit: int = PASS_LIMIT) -> DeliveryReport:
    """Passes of :func:`deliver_due` while each finds a full batch (at most MAX_PASSES)."""
    total = DeliveryReport()
    for _pass in range(MAX_PASSES):
        report = deliver_due(limit=limit)
        for name in ("delivered", "retried", "failed", "postponed", "recovered"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if report.handled < limit:
            break
    return total


@task()
def deliver_webhooks() -> None:
    """Post the due deliveries now: enqueued after a commit that wrote some, by "Send
    again" and when the worker starts. Several at once are harmless: each is claimed."""
    deliver_pending()


@periodic_task(minutes=1)
def deliver_webhooks_periodically() -> None:
    """Every minute: the retries whose backoff is over, and what was written while the
    task queue was down."""
    deliver_pending()


@on_worker_start
def _deliver_on_start() -> None:
    deliver_webhooks.enqueue()


def prune(now: datetime | None = None) -> int:
    """Remove the deliveries delivered more than ``ERP_WEBHOOKS_KEEP_DAYS`` (30) ago; the
    number removed. Waiting and failed ones stay (an admin may send them again). For a
    delivered one, ``next_attempt_at`` is the moment of its last claim: the worker's index
    (status, next_attempt_at) finds them."""
    days = int(_config("ERP_WEBHOOKS_KEEP_DAYS", DEFAULT_KEEP_DAYS))
    since = _aware(now or utcnow()) - timedelta(days=days)
    with writing():
        result = db.session.execute(
            delete(WebhookDelivery)
            .where(WebhookDelivery.status == DELIVERED, WebhookDelivery.next_attempt_at < since)
            .execution_options(synchronize_session=False))
        db.session.commit()
    return result.rowcount or 0


@periodic_task(at=(4, 20), name="erp.webhooks.prune_deliveries")
def prune_deliveries() -> None:
    """Daily: the log of deliveries done long ago."""
    removed = prune()
    if removed:
        log.info("removed %d webhook deliveries delivered long ago", removed)


def send_again(delivery_id: int) -> bool:
    """Put a delivery that is not being posted back in the queue, due now, attempts from 0,
    and commit (a delivered one is posted once more, with the same event id). False if it
    is being posted or does not exist."""
    result = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id,
               WebhookDelivery.status.in_((QUEUED, FAILED, DELIVERED)))
        .values(status=QUEUED, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        return False
    enqueue_after_commit(deliver_webhooks)
    db.session.commit()
    return True
