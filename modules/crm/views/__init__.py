"""CRM routes: one blueprint, split by entity. Views parse, call a service, render."""

from flask import Blueprint

bp = Blueprint("crm", __name__, url_prefix="/crm", template_folder="../templates",
               static_folder="../static")

# Importing the view modules registers their routes on bp.
from . import (  # noqa: E402,F401
    accounts,
    actions,
    contacts,
    drafts,
    duplicates,
    funnel,
    lookup,
    merge,
    opportunities,
    settings,
)
