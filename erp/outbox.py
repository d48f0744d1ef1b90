"""What the host's two outboxes share (mail's :class:`~erp.mail.OutboxMessage`, webhooks'
:class:`~erp.webhooks.models.WebhookDelivery`): a row waits ``queued`` with its
``next_attempt_at``, and a worker takes it by moving it to ``sending``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from .db import db

QUEUED, SENDING = "queued", "sending"

__all__ = ["claim"]


def claim(model, row_id: int, now: datetime) -> bool:
    """Take the queued, due row ``row_id`` of ``model`` for this worker (one ``UPDATE``
    that only touches it while still queued, committed); False if another worker was
    faster."""
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == QUEUED, model.next_attempt_at <= now)
        .values(status=SENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1
