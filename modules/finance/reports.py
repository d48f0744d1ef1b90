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

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

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
from .permissions import READ

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
    # One statement: the page's accounts and the totals over all of them.
    pagination = services.DebtorsPage(
        debtors=overdue_debtors(current_user, filters), order="overdue",
        figures=REPORT_FIGURES, page=page_arg(),
        per_page=current_app.config["ERP_PAGE_SIZE"], max_per_page=None, error_out=False)
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
