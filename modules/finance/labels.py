"""What the user reads for the stored and computed codes."""

from erp.i18n import module_i18n

_l = module_i18n(__name__).lazy_gettext

METHOD_LABELS = {
    "cash": _l("Cash"),
    "pix": _l("Pix"),
    "boleto": _l("Boleto"),
    "card": _l("Card"),
    "transfer": _l("Bank transfer"),
}

STATUS_LABELS = {
    "open": _l("Open"),
    "partial": _l("Partially paid"),
    "overdue": _l("Overdue"),
    "paid": _l("Paid"),
    "cancelled": _l("Cancelled"),
}

# The status badge's colour (macros.html's status_badge): a Bootstrap text-bg-* class.
STATUS_TONES = {
    "open": "text-bg-primary",
    "partial": "text-bg-info",
    "overdue": "text-bg-danger",
    "paid": "text-bg-success",
    "cancelled": "text-bg-secondary",
}

ORIGIN_LABELS = {
    "manual": _l("Entered by hand"),
    "sales.invoice": _l("Sales invoice"),
    "service.invoice": _l("Service invoice"),
}

# The audit trail's History (erp.audit.Audited): field names and coded values.
RECEIVABLE_FIELDS = {
    "account_id": _l("Account"), "document": _l("Document"), "origin": _l("Origin"),
    "origin_id": _l("Origin number"), "issue_date": _l("Issue date"),
    "due_date": _l("Due date"), "amount": _l("Amount"), "installment": _l("Installment"),
    "installments": _l("Installments"), "cancelled": _l("Cancelled"),
    "cancelled_at": _l("Cancelled on"), "created_by_id": _l("Created by"),
}
RECEIVABLE_CHOICES = {"origin": ORIGIN_LABELS}
PAYMENT_FIELDS = {
    "receivable_id": _l("Receivable"), "account_id": _l("Account"),
    "date": _l("Payment date"), "amount": _l("Amount"), "method": _l("Method"),
    "created_by_id": _l("Recorded by"),
}
PAYMENT_CHOICES = {"method": METHOD_LABELS}
