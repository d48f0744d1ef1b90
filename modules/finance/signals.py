"""Finance sends no signals; it listens to the invoices of sales and service, by name.

The senders (``modules/sales/signals.py``, ``modules/service/signals.py``) declare them;
finance never imports those modules, so it works with either or both absent — it simply
never hears from them. Receivers run inside the sender's transaction (they flush, never
commit) and veto a cancellation with :class:`erp.signals.Refused`.
"""

from __future__ import annotations

from blinker import signal

from erp.modules import is_enabled

ISSUED = ("sales.invoice_issued", "service.invoice_issued")
CANCELLED = ("sales.invoice_cancelled", "service.invoice_cancelled")


def finance_enabled() -> bool:
    """Signals are process-wide: act only in an app where finance is enabled."""
    return is_enabled("finance")


def on_invoice_issued(sender, *, account_id, document, origin, origin_id, issue_date,
                      installments, user=None, **_extra):
    """An invoice was issued: one receivable per installment (due date, amount)."""
    if not finance_enabled():
        return None
    from .services.receivables import receivables_from_origin

    return receivables_from_origin(account_id=account_id, document=document, origin=origin,
                                   origin_id=origin_id, issue_date=issue_date,
                                   installments=installments, user=user)


def on_invoice_cancelled(sender, *, origin, origin_id, user=None, **_extra):
    """An invoice was cancelled: cancel its receivables, or refuse if any has payments."""
    if not finance_enabled():
        return None
    from .services.receivables import cancel_origin

    return cancel_origin(origin=origin, origin_id=origin_id)


def connect() -> None:
    """Called by ``register()``; blinker ignores a function connected twice."""
    for name in ISSUED:
        signal(name).connect(on_invoice_issued, weak=False)
    for name in CANCELLED:
        signal(name).connect(on_invoice_cancelled, weak=False)
