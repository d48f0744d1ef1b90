"""What the user reads for the stored and computed codes."""

from flask_babel import lazy_gettext as _l

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

STATUS_BADGES = {
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
