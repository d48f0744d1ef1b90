"""Finance's tables: receivables and the payments received against them
(receivables.py: two entities kept together, as a receivable's paid amount is a query of
its payments and a payment belongs to one receivable), and what is owed on each
receivable with its account's owner, kept by triggers (balances.py). Re-exported here:
``from modules.finance.models import Receivable``."""

from .balances import ReceivableBalance, ReceivableDay
from .receivables import (
    CANCELLED,
    METHODS,
    OPEN,
    ORIGIN_MANUAL,
    OVERDUE,
    PAID,
    PARTIAL,
    STATUSES,
    ZERO,
    Payment,
    Receivable,
    status_expr,
    unpaid_clause,
)

__all__ = [
    "CANCELLED", "METHODS", "OPEN", "ORIGIN_MANUAL", "OVERDUE", "PAID", "PARTIAL", "STATUSES",
    "ZERO", "Payment", "Receivable", "ReceivableBalance", "ReceivableDay",
    "status_expr", "unpaid_clause",
]
