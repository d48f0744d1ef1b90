"""Service's pages (blueprint routes only, thin: parse, call services, render): orders
(orders.py: list, form, detail with status buttons and the invoice form) and service
invoices (invoices.py: list, detail, cancel)."""

from flask import Blueprint

bp = Blueprint("service", __name__, url_prefix="/service",
               template_folder="../templates")

DIGITS = "0123456789"


from . import invoices, orders  # noqa: E402,F401  (their routes, on bp)
