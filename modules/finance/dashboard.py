"""Finance's home-dashboard widget: the overdue receivables in the user's record scope.

"Overdue" is the computed status (:func:`modules.finance.models.status_expr`, never
stored), through the receivables list's own WHERE clauses, so the widget's figures are
the ones the list shows when the link is followed. Two queries: an aggregate and a
LIMITed list of the oldest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from erp.clock import local_today
from erp.db import db
from erp.registry import DashboardWidget
from modules.crm.models import Account

from .models import OVERDUE, Receivable
from .permissions import READ
from .services.common import to_money
from .services.lists import Filters, receivables_where

OLDEST_SHOWN = 5


@dataclass
class OverdueSummary:
    day: date
    count: int = 0
    outstanding: Decimal = Decimal("0.00")  # what is still owed on them
    oldest: list[Any] = field(default_factory=list)  # rows, the oldest due date first


def overdue_summary(user, today: date | None = None, *, limit: int = OLDEST_SHOWN
                    ) -> OverdueSummary:
    today = today or local_today(user)
    # The list's own clauses, plus what "overdue" implies in plain indexable columns: the
    # computed status is a CASE the database cannot look up by, the due date is not.
    where = [*receivables_where(user, Filters(status=OVERDUE), today),
             Receivable.due_date < today, Receivable.cancelled.is_(False)]
    owed = Receivable.amount - Receivable.paid
    count, outstanding = db.session.execute(
        select(func.count(Receivable.id), func.coalesce(func.sum(owed), 0))
        .select_from(Receivable).join(Account, Account.id == Receivable.account_id)
        .where(*where)).one()
    oldest = db.session.execute(
        select(Receivable.id, Receivable.document, Receivable.due_date,
               owed.label("outstanding"), Receivable.account_id,
               func.coalesce(Account.trade_name, Account.legal_name).label("account_name"))
        .join(Account, Account.id == Receivable.account_id)
        .where(*where).order_by(Receivable.due_date, Receivable.id).limit(limit)).all()
    return OverdueSummary(today, int(count), to_money(outstanding), list(oldest))


def render(user) -> str:
    summary = overdue_summary(user)
    return render_template("finance/dashboard.html", summary=summary, overdue=OVERDUE,
                           to_money=to_money)


WIDGET = DashboardWidget("finance.overdue", _l("Overdue receivables"), render=render,
                         permission=READ, order=30, width=6)
