"""The old aging summary page, ``/finance/aging``: the receivables aging report
(reports.py, with its chart and CSV) is the one aging page now, and this address sends
there with the same filters, so old links and bookmarks still work (issue 17)."""

from __future__ import annotations

from flask import redirect, request, url_for

from erp.auth import permission_required

from ..permissions import READ
from . import bp


@bp.route("/aging")
@permission_required(READ)
def aging():
    return redirect(url_for("finance_reports.aging", **request.args.to_dict(flat=False)),
                    code=301)
