"""The aging summary: what is still owed, by account and by days overdue (the aging page,
and the base of the aging report)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, case, func, select

from erp.db import db
from modules.crm.models import Account
from modules.crm.services.scope import account_scope

from ..models import ZERO, Payment, Receivable
from .common import to_money, user_today

BUCKETS = ("current", "d0_30", "d31_60", "d61_90", "d90_plus")


def aging_select(user, today: date):
    """The aging GROUP BY: one row per account in ``user``'s scope with something owed —
    ``id``, ``legal_name``, ``trade_name``, one column per bucket (:data:`BUCKETS`) and
    ``total`` — largest total first. Also the base of finance's aging report."""
    paid = (select(Payment.receivable_id, func.sum(Payment.amount).label("paid"))
            .group_by(Payment.receivable_id).subquery())
    owed = Receivable.amount - func.coalesce(paid.c.paid, 0)
    due = Receivable.due_date

    def days(low: int, high: int | None):
        """Owed by the receivables ``low``..``high`` days overdue."""
        condition = due <= today - timedelta(days=low)
        if high is not None:
            condition = and_(condition, due >= today - timedelta(days=high))
        return func.coalesce(func.sum(case((condition, owed), else_=0)), 0)

    columns = [func.coalesce(func.sum(case((due >= today, owed), else_=0)), 0),
               days(1, 30), days(31, 60), days(61, 90), days(91, None)]
    query = (select(Account.id, Account.legal_name, Account.trade_name,
                    *(c.label(name) for c, name in zip(columns, BUCKETS, strict=True)),
                    func.sum(owed).label("total"))
             .select_from(Receivable)
             .join(Account, Account.id == Receivable.account_id)
             .outerjoin(paid, paid.c.receivable_id == Receivable.id)
             .where(account_scope(user), Receivable.cancelled.is_(False), owed > 0)
             .group_by(Account.id, Account.legal_name, Account.trade_name)
             .order_by(func.sum(owed).desc(), Account.id))
    return query


def aging(user, today: date | None = None) -> tuple[list, dict]:
    """What is still owed, by account and by days overdue: not yet due, 1–30, 31–60,
    61–90 and over 90 days. One GROUP BY query; returns (rows, totals)."""
    query = aging_select(user, user_today(today, user))
    rows = []
    totals = dict.fromkeys((*BUCKETS, "total"), ZERO)
    for row in db.session.execute(query):
        values = {name: to_money(getattr(row, name)) for name in (*BUCKETS, "total")}
        rows.append({"account_id": row.id, "name": row.trade_name or row.legal_name,
                     **values})
        for name, value in values.items():
            totals[name] += value
    return rows, totals
