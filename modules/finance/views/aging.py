"""The aging summary page: what is still owed, by account and by days overdue (the report
with filters and CSV is reports.py's)."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from erp.auth import permission_required
from erp.clock import local_today

from .. import services
from ..permissions import READ
from . import bp


@bp.route("/aging")
@permission_required(READ)
def aging():
    today = local_today()
    rows, totals = services.aging(current_user, today)
    return render_template("finance/aging.html", rows=rows, totals=totals, today=today)
