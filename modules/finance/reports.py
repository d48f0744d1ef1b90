"""The receivables aging report: what is overdue, by account and by days overdue.

Built on the aging summary's query (:func:`services.aging_select`): one GROUP BY per
account over the receivables still owed (amount minus payments, cancelled ones left
out), within the viewer's record scope (by the account's owner). The report keeps the
accounts with something *overdue* on the chosen day and its four buckets: 1–30 days
past the due date (shown as 0–30: due before today), 31–60, 61–90 and over 90. The
not-yet-due part is the aging summary's business, not this report's.

A page of accounts (largest overdue first) with the totals over all of them in one
statement, and a CSV of every account, streamed (issue 15: the GROUP BY is driven from the
receivables, not the accounts, and runs once per page instead of three times).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import false, func, select

from erp.auth import permission_required, visible_teams, visible_users
from erp.charts import bar_chart
from erp.clock import local_today
from erp.db import db
from erp.formats import parse_date
from erp.i18n import module_i18n, money
from erp.params import page_arg
from erp.registry import Report
from erp.reports import MONEY, Column, ReportTable, Row, csv_response, wants_csv

from . import services
from .forms.reports import AgingFilterForm
from .models import ReceivableBalance, ReceivableDay
from .permissions import READ
from .services.aging import bucket_sums
from .services.balances import balance_in_scope, from_cents

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

bp = Blueprint("finance_reports", __name__, url_prefix="/finance/reports",
               template_folder="templates")

OVERDUE_BUCKETS = ("d0_30", "d31_60", "d61_90", "d90_plus")
REPORT_FIGURES = (*OVERDUE_BUCKETS, "overdue")


def bucket_labels() -> dict[str, str]:
    return {"d0_30": _("0–30 days"), "d31_60": _("31–60 days"), "d61_90": _("61–90 days"),
            "d90_plus": _("Over 90 days")}


@dataclass(frozen=True)
class AgingFilters:
    as_of: date
    owner_id: int | None = None
    team_id: int | None = None


def build_form(args, user) -> AgingFilterForm:
    form = AgingFilterForm(args)
    if not args.get("as_of"):
        form.as_of.data = local_today().isoformat()
    form.owner.choices = [("", _l("Everyone"))] + [
        (str(u.id), u.name) for u in visible_users(user)]
    teams = visible_teams(user)
    form.team.choices = [("", _l("All teams"))] + [(str(t.id), t.name) for t in teams]
    for field in (form.owner, form.team):
        if not args.get(field.name):
            field.data = ""
    form.show_teams = bool(teams)
    return form


def filters_from(form: AgingFilterForm) -> AgingFilters:
    return AgingFilters(as_of=parse_date(form.as_of.data),
                        owner_id=int(form.owner.data) if form.owner.data else None,
                        team_id=int(form.team.data) if form.team.data else None)


# --- the figures -----------------------------------------------------------------------


def overdue_debtors(user, filters: AgingFilters):
    """The accounts with something overdue (a subquery): ``account_id``, the four buckets
    and ``overdue``, their sum. Driven from the receivables (:func:`services.aging_select`);
    the owner and team filters test each debtor's owner, as the record scope does."""
    base = services.aging_select(user, filters.as_of, owner_id=filters.owner_id,
                                 team_id=filters.team_id).subquery("aging")
    overdue = sum((base.c[name] for name in OVERDUE_BUCKETS[1:]), base.c[OVERDUE_BUCKETS[0]])
    return (select(base.c.account_id, *(base.c[name] for name in OVERDUE_BUCKETS),
                   overdue.label("overdue"))
            .where(overdue > services.OWED)
            .subquery("overdue_debtors"))


def ranked_debtors(user, filters: AgingFilters):
    """The accounts with something overdue (a subquery): ``account_id`` and ``overdue``,
    what is owed on their receivables due before the day — one sum per receivable, read
    from the balances (finance 0005) in the scope's owners' ranges of their index and
    grouped in its (owner, account) order; the buckets are left to the page's rows."""
    balance = ReceivableBalance
    overdue = func.sum(balance.amount - balance.paid)
    return (select(balance.account_id.label("account_id"), overdue.label("overdue"))
            .where(balance_in_scope(user, owner_id=filters.owner_id,
                                    team_id=filters.team_id),
                   balance.cancelled == false(), balance.due_date < filters.as_of)
            .group_by(balance.owner_id, balance.account_id)
            .having(overdue > services.OWED)
            .order_by(balance.owner_id, balance.account_id)
            .subquery("ranked"))


def bucket_totals(user, filters: AgingFilters) -> dict[str, Decimal]:
    """Each overdue bucket's total and ``overdue`` over every account: from the live
    receivables' sums by owner and due date (finance 0006), a row per owner and day in
    the scope's owners' ranges — whatever the number of receivables. (An account left out
    of the report owes nothing overdue: adding it changes no total.)"""
    day = ReceivableDay
    sums = bucket_sums(day.due_date, day.amount_cents - day.paid_cents,
                                filters.as_of)[1:5]
    row = db.session.execute(
        select(*(func.coalesce(value, 0) for value in sums))
        .where(balance_in_scope(user, owner_id=filters.owner_id, team_id=filters.team_id,
                                column=day.owner_id),
               day.due_date < filters.as_of)).one()
    totals = {name: from_cents(value) for name, value in zip(OVERDUE_BUCKETS, row,
                                                             strict=True)}
    totals["overdue"] = sum(totals.values(), Decimal("0.00"))
    return totals


class OverduePage(Pagination):
    """A page of the report's accounts (largest overdue first) with ``totals`` over all of
    them (each bucket, ``overdue`` and ``accounts``, how many).

    ``OverduePage(user=..., filters=AgingFilters(...), page=2, per_page=25)``. Three
    statements, none of which costs more than one read of each overdue receivable: the
    accounts ranked by what they owe overdue (one sum per receivable, the count over all
    of them before the LIMIT) with the page's names; the page's accounts' buckets (their
    receivables by account); the buckets' totals from the sums by owner and day. Before
    (issue 15), every account's five bucket sums were worked out and summed in windows to
    show 25 of them."""

    def _query_items(self) -> list:
        user, filters = self._query_args["user"], self._query_args["filters"]
        ranked = ranked_debtors(user, filters)
        page = (select(ranked.c.account_id, ranked.c.overdue,
                       func.count().over().label("debtors"))
                .order_by(func.round(ranked.c.overdue, 2).desc(), ranked.c.account_id)
                .limit(self.per_page).offset((self.page - 1) * self.per_page)
                .subquery("page"))
        rows = db.session.execute(services.with_names(page, "overdue")).all()
        self.totals = bucket_totals(user, filters)
        if rows:
            accounts = int(rows[0].debtors)
        else:
            accounts = db.session.scalar(select(func.count()).select_from(ranked))
        self.totals["accounts"] = accounts
        return self._with_buckets(rows, filters)

    @staticmethod
    def _with_buckets(rows, filters: AgingFilters) -> list:
        """The page's rows with their buckets: their accounts' live receivables due
        before the day (by the balances' account index)."""
        if not rows:
            return []
        balance = ReceivableBalance
        sums = bucket_sums(balance.due_date, balance.amount - balance.paid,
                                    filters.as_of)[1:5]
        buckets = {found.account_id: found for found in db.session.execute(
            select(balance.account_id, *(value.label(name) for value, name in zip(
                sums, OVERDUE_BUCKETS, strict=True)))
            .where(balance.account_id.in_([row.account_id for row in rows]),
                   balance.cancelled == false(), balance.due_date < filters.as_of)
            .group_by(balance.account_id))}
        return [OverdueRow(row.account_id, row.name,
                           *(getattr(buckets[row.account_id], name)
                             for name in OVERDUE_BUCKETS), row.overdue) for row in rows]

    def _query_count(self) -> int:
        return self.totals["accounts"]


class OverdueRow(NamedTuple):
    account_id: int
    name: str
    d0_30: Decimal
    d31_60: Decimal
    d61_90: Decimal
    d90_plus: Decimal
    overdue: Decimal


def aging_rows(user, filters: AgingFilters):
    """Every account with something overdue, largest overdue first, with its names (a
    SELECT to stream)."""
    return services.with_names(overdue_debtors(user, filters), "overdue")


def aging_totals(user, filters: AgingFilters) -> dict[str, Decimal]:
    """Each bucket's total over every account, and how many accounts; one query."""
    return services.debtors_totals(overdue_debtors(user, filters), REPORT_FIGURES)


def aging_table(rows, totals: dict, filters: AgingFilters) -> ReportTable:
    labels = bucket_labels()
    columns = [Column("account", _("Account")),
               *(Column(name, labels[name], MONEY) for name in OVERDUE_BUCKETS),
               Column("overdue", _("Total overdue"), MONEY)]

    def line(row) -> Row:
        values = (row.name,
                  *(services.to_money(getattr(row, name)) for name in OVERDUE_BUCKETS),
                  services.to_money(row.overdue))
        return Row(values, {"account": url_for("finance.index", account_id=row.account_id,
                                               status="overdue")})

    footer = Row((_("Total"), *(totals[name] for name in OVERDUE_BUCKETS), totals["overdue"]))
    return ReportTable(columns, (line(row) for row in rows), footer)


def _stream(statement):
    """Every row, fetched in batches (a server-side cursor on PostgreSQL)."""
    yield from db.session.execute(statement.execution_options(yield_per=500))


# --- the page --------------------------------------------------------------------------


@bp.route("/aging")
@permission_required(READ)
def aging():
    form = build_form(request.args, current_user)
    if not form.validate():
        return render_template("finance/reports/aging.html", form=form, filters=None), 400
    filters = filters_from(form)
    if wants_csv(request.args):
        totals = aging_totals(current_user, filters)
        rows = _stream(aging_rows(current_user, filters))  # read as the download is written
        return csv_response(f"finance-aging-{filters.as_of.isoformat()}.csv",
                            aging_table(rows, totals, filters))
    # The page's accounts and the totals over all of them.
    pagination = OverduePage(user=current_user, filters=filters, page=page_arg(),
                             per_page=current_app.config["ERP_PAGE_SIZE"],
                             max_per_page=None, error_out=False)
    totals = pagination.totals
    table = aging_table(pagination.items, totals, filters)
    chart = None
    if totals["accounts"]:
        labels = bucket_labels()
        chart = bar_chart(
            "aging-chart", _("Overdue receivables by days overdue"),
            [labels[name] for name in OVERDUE_BUCKETS],
            [totals[name] for name in OVERDUE_BUCKETS], value_format=money,
            horizontal=False)
    return render_template("finance/reports/aging.html", form=form, filters=filters,
                           totals=totals, table=table, chart=chart, pagination=pagination)


AGING = Report(
    "finance.aging", _l("Receivables aging"), "finance_reports.aging", permission=READ,
    order=50, description=_l("Overdue receivables by account: 0–30, 31–60, 61–90 and "
                             "over 90 days past due."))
