"""The signals Service sends (blinker named signals).

A module that must also work without Service (finance) connects by name,
``blinker.signal("service.invoice_issued").connect(receiver)``, without importing this
file. Every one is sent INSIDE the sender's transaction: after Service's own changes are
flushed and before its commit, so a receiver's changes are committed (or rolled back)
together with the cause. A receiver may veto the change by raising
:class:`erp.signals.Refused`; Service then rolls everything back and shows the message.
"""

from blinker import signal

order_opened = signal("service.order_opened", doc="""
A service order was opened (created). Sent inside the transaction, before the commit.

:param sender: the :class:`~.models.ServiceOrder` (flushed: it has its id and number)
:param account_id: int, the order's account
:param user: the acting user
Receivers return nothing; raising ``erp.signals.Refused`` cancels the creation.
""")

order_finished = signal("service.order_finished", doc="""
A service order moved to "done": it can now be invoiced. Sent inside the transaction.

:param sender: the :class:`~.models.ServiceOrder`
:param account_id: int
:param total: Decimal, the order's total (items + hours)
:param user: the acting user
Receivers return nothing; raising ``erp.signals.Refused`` keeps the order as it was.
""")

invoice_issued = signal("service.invoice_issued", doc="""
A service invoice (nota de serviço) was issued from a finished order. Sent inside the
transaction, after the invoice is flushed and before the commit: finance, when installed,
creates one receivable per installment atomically with the invoice.

:param sender: the :class:`~.models.ServiceInvoice`
:param account_id: int, the invoiced account
:param document: str, the invoice number, e.g. "NFS 000123"
:param origin: "service.invoice"
:param origin_id: int, the invoice's id
:param issue_date: datetime.date
:param installments: list of (due date, Decimal amount), the invoice's installment rows in
    order (``erp.documents.schedule``); the amounts sum to the invoice's amount (the order's
    total)
:param user: the acting user
Receivers return nothing; raising ``erp.signals.Refused("message")`` refuses the issue:
nothing is written and the message is shown to the user.
""")

invoice_cancelled = signal("service.invoice_cancelled", doc="""
A service invoice was cancelled. Sent inside the transaction, before the commit: finance,
when installed, cancels the unpaid receivables of this origin.

:param sender: the :class:`~.models.ServiceInvoice`
:param origin: "service.invoice"
:param origin_id: int, the invoice's id
:param user: the acting user
Receivers return nothing; raising ``erp.signals.Refused("message")`` (e.g. a receivable
already has payments) vetoes the cancellation: nothing changes and the message is shown.
""")
