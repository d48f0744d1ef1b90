"""The aging summary: what is still owed, by account and by days overdue (the aging page,
and the base of the aging report).

Driven from the receivables' balances (issue 15; finance 0005): each live receivable's
amount and the sum of its payments, with its account's owner, kept by triggers and read
in the scope's owners' ranges of the index that covers them, grouped by account in index
order. Neither an account (a primary-key probe per debtor for its owner, before) nor a
payment is read; the accounts' names only for the page's rows. Earlier still, the GROUP BY
went over every account (200,000 of them for 5,000 debtors) and the page ran it three
times (totals, count, rows).

The figures are those of summing ``amount - paid`` over the receivables still unpaid: a
payment is never more than is owed (record_payment), so a receivable paid in full adds
``amount - paid = 0``, and an account whose receivables are all paid has a total of 0 and
is left out. A page of debtors carries the totals over all of them in the same statement
(window sums, computed before the LIMIT): one aggregate per page, whatever the number of
debtors. The buckets depend on the day: they are worked out from the due dates when read.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, case, false, func, select
from sqlalchemy.sql.elements import True_

from erp.db import db
from modules.crm.models import Account
from modules.crm.services.scope import account_scope

from ..models import ZERO, ReceivableBalance
from .balances import balance_in_scope
from .common import to_money, user_today

BUCKETS = ("current", "d0_30", "d31_60", "d61_90", "d90_plus")
FIGURES = (*BUCKETS, "total")
# "Something owed": more than half a cent. Amounts are whole cents, so this is "> 0" on
# PostgreSQL; on SQLite (floats) a receivable paid in full may leave a residue of 1e-12.
OWED = Decimal("0.005")


def account_in_scope(account_id, user):
    """Whether the account ``account_id`` (a column) is within ``user``'s record scope:
    nothing to test for a user who sees every account; else a primary-key probe of the
    account, as a scalar subquery — neither a join the planner could drive from the
    accounts (SQLite did, from a team's accounts by owner), nor an 'owner IN (team)'
    that PostgreSQL turns into a hash join of every row's owner (then sorts them all)."""
    scope = account_scope(user)
    if isinstance(scope, True_):
        return scope
    return (select(Account.id).where(Account.id == account_id, scope)
            .correlate_except(Account).scalar_subquery().is_not(None))


def bucket_sums(due, value, today: date) -> list:
    """``value`` summed by bucket of its ``due`` date (:data:`BUCKETS`: not yet due, 1–30,
    31–60, 61–90 and over 90 days overdue on ``today``), then in all: one per FIGURES."""
    def when(condition):
        return func.sum(case((condition, value), else_=0))

    def days(low: int, high: int | None):
        condition = due <= today - timedelta(days=low)
        if high is not None:
            condition = and_(condition, due >= today - timedelta(days=high))
        return when(condition)

    return [when(due >= today), days(1, 30), days(31, 60), days(61, 90), days(91, None),
            func.sum(value)]


def aging_select(user, today: date, *, owner_id: int | None = None,
                 team_id: int | None = None):
    """The aging: one row per account in ``user``'s scope with something owed —
    ``account_id``, one column per bucket (:data:`BUCKETS`) and ``total``, in (owner,
    account) order.
    ``owner_id`` / ``team_id`` keep the accounts of that owner / of that team's members
    (within the scope). Also the base of finance's aging report.

    One GROUP BY over the receivables' balances (finance 0005: each live receivable's
    amount less its payments, with its account's owner, kept by triggers), read in the
    scope's owners' ranges of the index that covers them, in (owner, account) order: each
    receivable read once, no sort nor hash of the groups (PostgreSQL spilled a hash of
    5,000 accounts' numeric sums to disk), neither the accounts (issue 15: a primary-key
    probe of each debtor's account for its owner) nor the payments (a second GROUP BY).
    The buckets are worked out from the due dates as read: nothing depends on the day but
    this statement."""
    balance = ReceivableBalance
    where = [balance_in_scope(user, owner_id=owner_id, team_id=team_id),
             balance.cancelled == false()]
    owed = balance.amount - balance.paid
    sums = dict(zip(FIGURES, bucket_sums(balance.due_date, owed, today), strict=True))
    # By owner and account: an account has one owner, so these are the accounts'
    # groups, in the order the index gives them (live, then owner, account).
    return (select(balance.account_id.label("account_id"),
                   *(sums[name].label(name) for name in FIGURES))
            .where(*where)
            .group_by(balance.owner_id, balance.account_id)
            .having(sums["total"] > OWED)
            # Grouped along the index on PostgreSQL too, not hashed (its hash of 4,000
            # accounts' numeric sums spilled to disk at 200K: 39 ms).
            .order_by(balance.owner_id, balance.account_id))


def with_names(debtors, order: str):
    """``debtors`` (a subquery with ``account_id``) with each account's ``name``: its legal
    name, after its trade name when it has another one ("Silva — Silva Comércio de Peças
    Ltda."), so two accounts with the same trade name are told apart (issue 17). Largest
    ``order`` first (to the cent). The name is a scalar subquery: a primary-key probe for
    each of these rows, where a join may be hashed over every account (PostgreSQL did,
    for the CSV of every debtor)."""
    trade = func.coalesce(Account.trade_name, "")
    name = (select(case((trade.in_(["", Account.legal_name]), Account.legal_name),
                        else_=Account.trade_name + " — " + Account.legal_name))
            .where(Account.id == debtors.c.account_id).correlate_except(Account)
            .scalar_subquery())
    # By the amount in cents: equal amounts by account (on SQLite, sums of floats differ
    # in the last bits with the order they were added in).
    return (select(debtors, name.label("name"))
            .order_by(func.round(debtors.c[order], 2).desc(), debtors.c.account_id))


def debtors_totals(debtors, figures) -> dict:
    """Each of ``figures`` summed over every row of ``debtors``, and ``accounts``: how
    many. One aggregate."""
    row = db.session.execute(
        select(*(func.coalesce(func.sum(debtors.c[name]), 0).label(name) for name in figures),
               func.count().label("accounts"))).one()
    totals = {name: to_money(getattr(row, name)) for name in figures}
    totals["accounts"] = int(row.accounts)
    return totals


class DebtorsPage(Pagination):
    """A page of debtors (largest ``order`` first) and ``totals``: each of ``figures``
    over every debtor, with ``accounts``, how many (the page count's total).

    ``DebtorsPage(debtors=<subquery>, order="total", figures=FIGURES, page=2, per_page=25)``.
    One statement: the window sums and count run over all the debtors before the LIMIT,
    then the page's rows get their accounts' names. A page past the end has no row to
    carry them: then a second statement sums them (:func:`debtors_totals`)."""

    def _query_items(self) -> list:
        debtors, order = self._query_args["debtors"], self._query_args["order"]
        figures = self._query_args["figures"]
        key = debtors.c[order]
        page = (select(debtors,
                       *(func.sum(debtors.c[name]).over().label(f"all_{name}")
                         for name in figures),
                       func.count().over().label("debtors"))
                .order_by(func.round(key, 2).desc(), debtors.c.account_id)
                .limit(self.per_page).offset((self.page - 1) * self.per_page)
                .subquery("page"))
        rows = db.session.execute(with_names(page, order)).all()
        if rows:
            self.totals = {name: to_money(getattr(rows[0], f"all_{name}")) for name in figures}
            self.totals["accounts"] = int(rows[0].debtors)
        else:
            self.totals = debtors_totals(debtors, figures)
        return rows

    def _query_count(self) -> int:
        return self.totals["accounts"]


def _as_dict(row) -> dict:
    return {"account_id": row.account_id, "name": row.name,
            **{name: to_money(getattr(row, name)) for name in FIGURES}}


def aging_page(user, today: date | None = None, *, page: int = 1,
               per_page: int = 25) -> DebtorsPage:
    """A page of the aging summary, largest total first: ``items`` are dicts (account_id,
    name, the buckets and total), ``totals`` over every debtor (and ``accounts``)."""
    debtors = aging_select(user, user_today(today, user)).subquery("debtors")
    pagination = DebtorsPage(debtors=debtors, order="total", figures=FIGURES, page=page,
                             per_page=per_page, max_per_page=None, error_out=False)
    pagination.items = [_as_dict(row) for row in pagination.items]
    return pagination


def aging(user, today: date | None = None) -> tuple[list, dict]:
    """What is still owed, by account and by days overdue: not yet due, 1–30, 31–60,
    61–90 and over 90 days, for every debtor (largest total first; the page shows them
    by :func:`aging_page`). Returns (rows, totals)."""
    debtors = aging_select(user, user_today(today, user)).subquery("debtors")
    rows = [_as_dict(row) for row in db.session.execute(with_names(debtors, "total"))]
    totals = dict.fromkeys(FIGURES, ZERO)
    for row in rows:
        for name in FIGURES:
            totals[name] += row[name]
    return rows, totals
