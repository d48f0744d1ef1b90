"""What service orders and invoices share: their numbers (the host's sequence) and the
timeline event each step writes (``service_event``, read by the account page)."""

from __future__ import annotations

from erp.db import db, utcnow
from erp.documents import next_number

from ..models import ServiceEvent


def insert_numbered(record, key: str) -> None:
    """Give ``record`` the next number of the host's sequence ``key`` ("service.order",
    "service.invoice": :func:`erp.documents.next_number`, safe under concurrency) and
    flush it."""
    record.number = next_number(key)
    db.session.add(record)
    db.session.flush()


def add_event(kind: str, account_id: int, document: str, *, user, order=None, invoice=None,
              amount=None) -> None:
    """Write one timeline event (``kind`` is one of models.EVENT_KINDS)."""
    db.session.add(ServiceEvent(
        kind=kind, account_id=account_id, document=document, at=utcnow(),
        order_id=order.id if order is not None else None,
        invoice_id=invoice.id if invoice is not None else None,
        user_id=user.id if user is not None else None, amount=amount))
