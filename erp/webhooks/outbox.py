"""Writing webhook events: one delivery row per (endpoint, event), in the caller's
transaction, so a change that rolls back sends nothing and one that commits is never lost.

Two ways in:

* **By itself**, from the audit trail (:func:`erp.audit.recorder.on_write`): every entry
  of an audited table that a :class:`~erp.registry.WebhookEvent` names with ``table`` and
  ``action`` (and whose ``when(changes)`` holds) becomes that event. The entries are
  written inside the flush, on its connection, and so are the deliveries.
* **Explicitly**: ``emit(key, data)`` for what the audit trail does not tell (a merge).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..audit.recorder import on_write
from ..db import db, utcnow
from ..registry import WebhookEvent
from ..tasks import enqueue_after_commit
from .models import QUEUED, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

_ENDPOINTS = "erp_webhook_endpoints"  # Session.info: the active endpoints, per transaction


def events(app=None) -> list[WebhookEvent]:
    """Every webhook event the enabled modules contribute, in order."""
    registry = (app or current_app).extensions["erp"]
    return registry.items(WebhookEvent, check_permission=False)


def _by_table(app) -> dict[tuple[str, str], list[WebhookEvent]]:
    """(table, action) -> the events it emits; computed once per app."""
    mapping = app.extensions.get("erp_webhook_tables")
    if mapping is None:
        mapping = defaultdict(list)
        for item in events(app):
            if item.table:
                mapping[(item.table, item.action)].append(item)
        mapping = app.extensions["erp_webhook_tables"] = dict(mapping)
    return mapping


def record_events(prefix: str, table: str, labels: tuple) -> tuple[WebhookEvent, ...]:
    """The three events of an audited table, for a module's contributions:
    ``record_events("sales.quote", "sales_quote", (_l("Quote created"), _l("Quote
    updated"), _l("Quote deleted")))`` -> ``sales.quote.created``, ``.updated``,
    ``.deleted``, emitted by the host from the audit trail."""
    created, updated, deleted = labels
    return (WebhookEvent(f"{prefix}.created", created, table=table, action="create"),
            WebhookEvent(f"{prefix}.updated", updated, table=table, action="update"),
            WebhookEvent(f"{prefix}.deleted", deleted, table=table, action="delete"))


def _jsonable(value: Any) -> Any:
    def default(obj):
        if isinstance(obj, datetime):
            moment = obj if obj.tzinfo else obj.replace(tzinfo=UTC)
            return moment.astimezone(UTC).isoformat()
        if isinstance(obj, date):
            return obj.isoformat()
        if isinstance(obj, Decimal):
            return format(obj, "f")
        if isinstance(obj, set | frozenset | tuple):
            return list(obj)
        return str(obj)

    return json.loads(json.dumps(value, default=default, ensure_ascii=False))


def _endpoints(session: Session) -> list[tuple[int, frozenset[str]]]:
    """The active endpoints and what each wants: one SELECT per transaction (the small
    table of endpoints), forgotten when it commits or rolls back."""
    found = session.info.get(_ENDPOINTS)
    if found is None:
        rows = session.connection().execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events)
            .where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id))
        found = session.info[_ENDPOINTS] = [(row.id, frozenset(row.events or ()))
                                            for row in rows]
    return found


def _forget(session, *_args) -> None:
    session.info.pop(_ENDPOINTS, None)


event.listen(Session, "after_commit", _forget)
event.listen(Session, "after_soft_rollback", _forget)


def _write(session: Session, occurrences: list[tuple[str, datetime, dict]]) -> int:
    """Insert a delivery per (subscribed endpoint, occurrence) on the session's
    connection (a Core insert: safe inside a flush); returns how many."""
    endpoints = _endpoints(session)
    if not endpoints:
        return 0
    rows = []
    now = utcnow()
    for key, occurred_at, data in occurrences:
        wanting = [endpoint_id for endpoint_id, keys in endpoints if key in keys]
        if not wanting:
            continue
        event_id = str(uuid.uuid4())
        for endpoint_id in wanting:
            rows.append({"endpoint_id": endpoint_id, "event_id": event_id, "event": key,
                         "occurred_at": occurred_at, "data": data, "status": QUEUED,
                         "attempts": 0, "next_attempt_at": now, "created_at": now})
    if rows:
        session.connection().execute(WebhookDelivery.__table__.insert(), rows)
        if current_app.config.get("ERP_WEBHOOKS_DELIVER_ON_QUEUE", True):
            from .delivery import deliver_webhooks

            enqueue_after_commit(deliver_webhooks)  # once committed, never if rolled back
    return len(rows)


def emit(key: str, data: dict, *, occurred_at: datetime | None = None) -> int:
    """Emit the webhook event ``key`` (a declared :class:`~erp.registry.WebhookEvent`)
    with ``data`` (a JSON-able dict: decimals, dates and times are written as text) in
    the current transaction of ``db.session``: each active endpoint subscribed to it gets
    a delivery, committed (or rolled back) with the caller's change, and posted by the
    worker after the commit. Returns the number of deliveries written (0: nobody listens).

    ``ValueError`` for an event no enabled module declares.
    """
    if not any(item.key == key for item in events()):
        raise ValueError(f"unknown webhook event {key!r}: declare it with WebhookEvent")
    if not isinstance(data, dict):
        raise ValueError("a webhook event's data is a dict")
    return _write(db.session(), [(key, occurred_at or utcnow(), _jsonable(data))])


def _record_id(text: str | None) -> int | str | None:
    return int(text) if text and text.isdigit() else text


def _from_audit(session: Session, entries: list[dict]) -> None:
    """The audit trail's listener: its entries of tables that events name, as events."""
    if not has_app_context() or "erp" not in current_app.extensions:
        return
    mapping = _by_table(current_app)
    if not mapping:
        return
    occurrences = []
    for entry in entries:
        for item in mapping.get((entry["table_name"], entry["action"]), ()):
            changes = entry.get("changes") or {}
            try:
                if item.when is not None and not item.when(changes):
                    continue
            except Exception:  # a module's condition must not stop the change itself
                log.exception("webhook event %s: its condition failed", item.key)
                continue
            user_id, user_name = entry.get("user_id"), entry.get("user_name")
            occurrences.append((item.key, entry.get("at") or utcnow(), {
                "type": entry["table_name"],
                "id": _record_id(entry.get("record_id")),
                "label": entry.get("record_label"),
                "changes": changes,
                "actor": {"id": user_id, "name": user_name} if user_id else None,
            }))
    if occurrences:
        _write(session, occurrences)


on_write(_from_audit)
