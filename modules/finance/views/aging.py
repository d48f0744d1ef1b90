"""The aging summary page: what is still owed, by account and by days overdue, a page of
debtors at a time with the totals over all of them (the report with filters and CSV is
reports.py's)."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from erp.auth import permission_required
from erp.clock import local_today
from erp.forms import page_arg, page_size

from .. import services
from ..permissions import READ
from . import bp


@bp.route("/aging")
@permission_required(READ)
def aging():
    today = local_today()
    pagination = services.aging_page(current_user, today, page=page_arg(),
                                     per_page=page_size())
    return render_template("finance/aging.html", rows=pagination.items,
                           totals=pagination.totals, pagination=pagination, today=today)
