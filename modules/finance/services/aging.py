"""The aging summary: what is still owed, by account and by days overdue (the aging page,
and the base of the aging report).

Driven from the receivables (issue 15): the live receivables' amounts, read from the
(account_id, cancelled, due_date, amount) index that covers them, less the payments on
them, summed per account and bucket. An account is read only to check
its owner against the viewer's record scope (a primary-key probe per debtor, none for a
user who sees every account) and for the names of the page's rows. Before, the GROUP BY
went over every account (200,000 of them for 5,000 debtors) and the page ran it three
times (totals, count, rows).

The figures are those of summing ``amount - paid`` over the receivables still unpaid: a
payment is never more than is owed (record_payment), so a receivable paid in full adds
``amount - paid = 0``, and an account whose receivables are all paid has a total of 0 and
is left out. A page of debtors carries the totals over all of them in the same statement
(window sums, computed before the LIMIT): one aggregate per page, whatever the number of
debtors.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, case, false, func, select
from sqlalchemy.sql.elements import True_

from erp.auth import scope_clause
from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account
from modules.crm.services.scope import account_scope

from ..models import ZERO, Payment, Receivable
from .common import to_money, user_today

BUCKETS = ("current", "d0_30", "d31_60", "d61_90", "d90_plus")
FIGURES = (*BUCKETS, "total")
# "Something owed": more than half a cent. Amounts are whole cents, so this is "> 0" on
# PostgreSQL; on SQLite (floats) a receivable paid in full may leave a residue of 1e-12.
OWED = Decimal("0.005")


def account_owner(account_id):
    """The owner of the account ``account_id`` (a column): a primary-key probe (its own
    read of the account, also within a query that joins the accounts)."""
    return (select(Account.owner_id).where(Account.id == account_id)
            .correlate_except(Account).scalar_subquery())


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
    ``account_id``, one column per bucket (:data:`BUCKETS`) and ``total`` — unordered.
    ``owner_id`` / ``team_id`` keep the accounts of that owner / of that team's members
    (within the scope). Also the base of finance's aging report.

    Two GROUP BYs by account joined: the live receivables' amounts, read in account order
    from the index that covers them (no sort, nor a hash of every group, which PostgreSQL
    spilled to disk), less the payments on them. The scope (and the filters) test each debtor's
    owner once its receivables are grouped: a primary-key probe of its account, as a
    scalar subquery, so no plan can drive the query from the accounts' side."""
    live = Receivable.cancelled == false()  # "= false": an index range on PostgreSQL too
    owner = account_owner(Receivable.account_id)
    having = [scope_clause(owner, user)]
    if owner_id is not None:
        having.append(account_owner(Receivable.account_id) == owner_id)
    if team_id is not None:
        having.append(account_owner(Receivable.account_id).in_(
            select(User.id).where(User.team_id == team_id).scalar_subquery()))
    amounts = (select(Receivable.account_id,
                      *(s.label(name) for s, name in zip(
                          bucket_sums(Receivable.due_date, Receivable.amount, today), FIGURES,
                          strict=True)))
               .where(live).group_by(Receivable.account_id).having(*having)
               # In account order: PostgreSQL then groups along the index (its hash of
               # 5,000 accounts' numeric sums spilled to disk: 3 ms -> 39 ms at 200K).
               .order_by(Receivable.account_id)
               .subquery("amounts"))
    paid = (select(Receivable.account_id,
                   *(s.label(name) for s, name in zip(
                       bucket_sums(Receivable.due_date, Payment.amount, today), FIGURES,
                       strict=True)))
            .select_from(Payment).join(Receivable, Receivable.id == Payment.receivable_id)
            .where(live).group_by(Receivable.account_id)
            .subquery("paid"))
    owed = {name: amounts.c[name] - func.coalesce(paid.c[name], 0) for name in FIGURES}
    return (select(amounts.c.account_id.label("account_id"),
                   *(owed[name].label(name) for name in FIGURES))
            .select_from(amounts.outerjoin(paid, paid.c.account_id == amounts.c.account_id))
            .where(owed["total"] > OWED))


def with_names(debtors, order: str):
    """``debtors`` (a subquery with ``account_id``) with each account's ``name``: its legal
    name, after its trade name when it has another one ("Silva — Silva Comércio de Peças
    Ltda."), so two accounts with the same trade name are told apart (issue 17). Largest
    ``order`` first. The name is a scalar subquery: a primary-key probe for each of these
    rows, where a join may be hashed over every account (PostgreSQL did, for the CSV of
    every debtor)."""
    trade = func.coalesce(Account.trade_name, "")
    name = (select(case((trade.in_(["", Account.legal_name]), Account.legal_name),
                        else_=Account.trade_name + " — " + Account.legal_name))
            .where(Account.id == debtors.c.account_id).correlate_except(Account)
            .scalar_subquery())
    return (select(debtors, name.label("name"))
            .order_by(debtors.c[order].desc(), debtors.c.account_id))


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
                .order_by(key.desc(), debtors.c.account_id)
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
