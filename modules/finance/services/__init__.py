"""The finance rules, shared by the views, the signal receivers, the reports, the demo and
any future API or import: receivables (receivables.py), payments (payments.py), the
receivables list (lists.py), the aging summary (aging.py), and what they share
(common.py). Re-exported here: ``from modules.finance import services``."""

from .aging import (
    BUCKETS,
    FIGURES,
    OWED,
    DebtorsPage,
    aging,
    aging_page,
    aging_select,
    debtors_totals,
    with_names,
)
from .common import MAX_AMOUNT, to_money
from .lists import (
    UNPAID,
    Filters,
    receivables_select,
    receivables_totals,
    receivables_where,
    week_of,
)
from .payments import record_payment
from .receivables import (
    DOCUMENT_LENGTH,
    MAX_INSTALLMENTS,
    cancel_origin,
    cancel_receivable,
    create_receivables,
    get_receivable_or_404,
    installment_document,
    receivables_from_origin,
)

__all__ = [
    "BUCKETS", "DOCUMENT_LENGTH", "FIGURES", "MAX_AMOUNT", "MAX_INSTALLMENTS", "OWED", "UNPAID",
    "DebtorsPage", "Filters", "aging", "aging_page", "aging_select", "cancel_origin",
    "cancel_receivable", "create_receivables",
    "get_receivable_or_404", "installment_document", "receivables_from_origin",
    "receivables_select", "receivables_totals", "receivables_where", "record_payment",
    "debtors_totals", "to_money", "week_of", "with_names",
]
