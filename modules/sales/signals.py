"""The signals sales sends (blinker named signals).

Another module listens without importing sales: ``blinker.signal("sales.invoice_issued")``
is the very same object. Every one is sent INSIDE the sender's transaction, after its
changes are flushed and before its commit, so a receiver's reaction is atomic with the
cause. A receiver may veto by raising :class:`erp.signals.Refused` (honoured for
``sales.invoice_cancelled`` and ``sales.invoice_issued``: the change is rolled back and the
message shown to the user).
"""

from blinker import signal

quote_sent = signal("sales.quote_sent", doc="""
A quote was sent by e-mail to a contact of its account.

:param sender: the :class:`~.models.Quote` (status "sent")
:param account_id: int
:param document: str, the quote's number ("PR 000012")
:param to: str, the address it was sent to
:param user: the acting user
""")

order_confirmed = signal("sales.order_confirmed", doc="""
An order was confirmed: created by hand or from an accepted quote.

:param sender: the :class:`~.models.Order`
:param account_id: int
:param document: str, the order's number ("PV 000034")
:param total: Decimal, the order's total
:param quote_id: int | None, the accepted quote it comes from
:param user: the acting user
""")

invoice_issued = signal("sales.invoice_issued", doc="""
An invoice was issued (the account has just been made a customer in the same transaction).

:param sender: the :class:`~.models.Invoice`
:param account_id: int
:param document: str, the invoice number ("NF 000123")
:param origin: "sales.invoice"
:param origin_id: int, the invoice's id
:param issue_date: date
:param installments: list[tuple[date, Decimal]], (due date, amount): the invoice's
    installment rows in order (``erp.documents.schedule``); the amounts sum to the invoice
    total
:param user: the acting user
A receiver may raise erp.signals.Refused to veto the issue.
""")

invoice_cancelled = signal("sales.invoice_cancelled", doc="""
An issued invoice is being cancelled.

:param sender: the :class:`~.models.Invoice` (status "cancelled", not yet committed)
:param origin: "sales.invoice"
:param origin_id: int, the invoice's id
:param user: the acting user
A receiver raises erp.signals.Refused("why") to veto (e.g. finance: a receivable of this
invoice has payments); the cancellation is then rolled back and the message shown.
""")
