"""Finance's pages (blueprint routes only, thin: parse, call services, render): the
receivables list, a receivable with its payments and the "new receivable" form
(receivables.py), the aging summary (aging.py). The aging report has its own blueprint
(reports.py)."""

from flask import Blueprint

bp = Blueprint("finance", __name__, url_prefix="/finance", template_folder="../templates")

from . import aging, receivables  # noqa: E402,F401  (their routes, on bp)
