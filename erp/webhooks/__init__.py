"""Webhooks: other systems hear about changes, signed, retried, never for a rolled-back one.

* An admin registers endpoints (Admin → Webhooks): an HTTPS URL, the events it wants, a
  secret that signs every request (:mod:`.admin`).
* Modules declare the events (:class:`erp.registry.WebhookEvent`); most are emitted by the
  host itself from the audit trail, in the transaction of the change; a module emits the
  others with :func:`emit` (:mod:`.outbox`).
* The worker posts the deliveries, with retries and a log (:mod:`.delivery`).
"""

from __future__ import annotations

from .delivery import (
    SIGNATURE_HEADER,
    body_of,
    deliver_due,
    deliver_webhooks,
    send_again,
    signature,
    verify,
)
from .models import (
    DELIVERED,
    FAILED,
    QUEUED,
    SENDING,
    STATUSES,
    WebhookDelivery,
    WebhookEndpoint,
)
from .outbox import emit, events, record_events
from .urls import check_url, new_secret

__all__ = ["DELIVERED", "FAILED", "QUEUED", "SENDING", "SIGNATURE_HEADER", "STATUSES",
           "WebhookDelivery", "WebhookEndpoint", "body_of", "check_url", "deliver_due",
           "deliver_webhooks", "emit", "events", "new_secret", "record_events", "send_again",
           "signature", "verify"]
