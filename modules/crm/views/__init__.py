"""CRM routes: one blueprint, split by entity. Views parse, call a service, render."""

from flask import Blueprint

bp = Blueprint("crm", __name__, url_prefix="/crm", template_folder="../templates",
               static_folder="../static")

from . import accounts, contacts, lookup  # noqa: E402,F401  (routes register on bp)
