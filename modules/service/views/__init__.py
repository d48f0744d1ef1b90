"""Service's pages (blueprint routes only, thin: parse, call services, render): orders
(orders.py: list, form, detail with status buttons and the invoice form) and service
invoices (invoices.py: list, detail, cancel)."""

from flask import Blueprint

from ..services.orders import ACTION_LABELS

bp = Blueprint("service", __name__, url_prefix="/service",
               template_folder="../templates")

DIGITS = "0123456789"


def labels() -> dict:
    """What every page gets besides its records: the status buttons' labels (the status
    labels come from service_labels, labels.py, a template global)."""
    return {"action_labels": ACTION_LABELS}


from . import invoices, orders  # noqa: E402,F401  (their routes, on bp)
