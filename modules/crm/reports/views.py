"""The CRM reports' pages: parse the filters, call the report, show chart + table, or
hand the same table over as CSV (``?format=csv``)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from erp.auth import permission_required
from erp.charts import Series, bar_chart, stacked_bar_chart
from erp.db import db, utcnow
from erp.forms import page_arg, page_size
from erp.i18n import module_i18n, number
from erp.reports import (
    DAYS,
    INTEGER,
    MONEY,
    PERCENT,
    Column,
    ReportTable,
    Row,
    csv_response,
    wants_csv,
)

from ..labels import ACTION_STATUS_LABELS
from ..permissions import READ
from ..services.actions import KIND_LABELS
from . import actions as actions_service
from . import funnel as funnel_service
from . import losses as losses_service
from .filters import build_form, filters_from, month_period, year_to_date

_ = module_i18n(__name__).gettext
pgettext = module_i18n(__name__).pgettext

bp = Blueprint("crm_reports", __name__, url_prefix="/crm/reports",
               template_folder="../templates")


def _filters(default_period, *, kinds: bool = False, owner: bool = False):
    form = build_form(request.args, current_user, default_period=default_period, kinds=kinds)
    if owner:
        form.user.label.text = _("Owner")
    return form, (filters_from(form) if form.validate() else None)


def _kind(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def _csv_name(name: str, filters) -> str:
    return f"{name}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"


# --- actions ---------------------------------------------------------------------------


def _status_label(status: str) -> str:
    return str(ACTION_STATUS_LABELS[status])


def _status_heading(status: str) -> str:
    """A column's or a series' title above counts: plural ("Concluídas"), not one action's
    status ("Concluída"); the same words in English (issue 17)."""
    return {"done": pgettext("actions", "Done"), "planned": pgettext("actions", "Planned"),
            "overdue": pgettext("actions", "Overdue")}.get(status) or _status_label(status)


def actions_table(report, filters) -> ReportTable:
    statuses = actions_service.STATUSES
    columns = [Column("user", _("User")), Column("kind", _("Type")),
               *(Column(s, _status_heading(s), INTEGER) for s in statuses),
               Column("total", _("Total"), INTEGER)]

    def links(user_id, kind) -> dict:
        def url(status):
            args = filters.query_args(user=user_id, kind=kind, status=status)
            return url_for("crm_reports.actions_list", **args)
        return {**{s: url(s) for s in statuses}, "total": url(None)}

    rows = [Row((r.user_name, _kind(r.kind), r.done, r.planned, r.overdue, r.total),
                links(r.user_id, r.kind)) for r in report.rows]
    done, planned, overdue = report.totals
    footer = Row((_("Total"), "", done, planned, overdue, done + planned + overdue),
                 links(None, None))
    return ReportTable(columns, rows, footer)


@bp.route("/actions")
@permission_required(READ)
def actions():
    form, filters = _filters(month_period, kinds=True)
    if filters is None:
        return render_template("crm/reports/actions.html", form=form, report=None), 400
    report = actions_service.actions_report(current_user, filters, utcnow())
    table = actions_table(report, filters)
    if wants_csv(request.args):
        return csv_response(_csv_name("crm-actions", filters), table)
    by_kind = report.by_kind()
    chart = None
    if report.rows:
        chart = stacked_bar_chart(
            "actions-chart", _("Actions by type: done, planned and overdue"),
            [_kind(k.kind) for k in by_kind],
            [Series(_status_heading(s), [getattr(k, s) for k in by_kind])
             for s in actions_service.STATUSES],
            value_format=number)
    return render_template("crm/reports/actions.html", form=form, filters=filters,
                           report=report, table=table, chart=chart)


@bp.route("/actions/list")
@permission_required(READ)
def actions_list():
    """The drill-down: the actions behind one cell of the report (same filters)."""
    form, filters = _filters(month_period, kinds=True)
    status = request.args.get("status", "")
    if status not in ("", *actions_service.STATUSES):
        abort(400, description=_("Choose a status: done, planned or overdue."))
    if filters is None:
        return render_template("crm/reports/actions_list.html", form=form, pagination=None,
                               status=status), 400
    now = utcnow()
    statement = actions_service.actions_list(current_user, filters, status or None, now)
    pagination = db.paginate(statement, page=page_arg(), per_page=page_size(),
                             error_out=False)
    return render_template("crm/reports/actions_list.html", form=form, filters=filters,
                           pagination=pagination, status=status,
                           status_label=_status_label(status) if status else None,
                           now=now, status_of=actions_service.status_of)


# --- funnel ----------------------------------------------------------------------------


def funnel_table(report) -> ReportTable:
    columns = [Column("stage", _("Stage")), Column("reached", _("Reached"), INTEGER),
               Column("reached_value", _("Value reached"), MONEY),
               Column("open_now", _("Open now"), INTEGER),
               Column("open_value", _("Open value"), MONEY),
               Column("conversion", _("Conversion to next (%)"), PERCENT),
               Column("average_days", _("Average days in stage"), DAYS)]
    rows = [Row((s.name, s.reached, s.reached_value, s.open_now, s.open_value, s.conversion,
                 s.average_days)) for s in report.stages]
    rows.append(Row((_("Won"), report.won, report.won_value, None, None, None, None),
                    css_class="table-success"))
    return ReportTable(columns, rows)


@bp.route("/funnel")
@permission_required(READ)
def funnel():
    form, filters = _filters(year_to_date, owner=True)
    if filters is None:
        return render_template("crm/reports/funnel.html", form=form, report=None), 400
    report = funnel_service.funnel_report(current_user, filters, utcnow())
    table = funnel_table(report)
    if wants_csv(request.args):
        return csv_response(_csv_name("crm-funnel", filters), table)
    chart = None
    if not report.is_empty:
        chart = bar_chart(
            "funnel-chart", _("Opportunities reaching each stage"),
            [s.name for s in report.stages] + [_("Won")],
            [s.reached for s in report.stages] + [report.won],
            value_format=number, funnel=True)
    return render_template("crm/reports/funnel.html", form=form, filters=filters,
                           report=report, table=table, chart=chart)


# --- loss reasons ----------------------------------------------------------------------


def losses_table(lines, first: str, *, no_name: str) -> ReportTable:
    columns = [Column("name", first), Column("lost", pgettext("opportunities", "Lost"), INTEGER),
               Column("value", _("Value lost"), MONEY),
               Column("share", _("Share of lost (%)"), PERCENT)]
    rows = [Row((line.name or no_name, line.lost, line.value, line.share)) for line in lines]
    lost = sum(line.lost for line in lines)
    value = sum((line.value for line in lines), start=0)
    footer = Row((_("Total"), lost, value, 100 if lost else None))
    return ReportTable(columns, rows, footer)


@bp.route("/losses")
@permission_required(READ)
def losses():
    form, filters = _filters(year_to_date, owner=True)
    if filters is None:
        return render_template("crm/reports/losses.html", form=form, report=None), 400
    report = losses_service.losses_report(current_user, filters)
    by_reason = losses_table(report.by_reason, _("Loss reason"), no_name=_("No reason"))
    by_stage = losses_table(report.by_stage, _("Stage where lost"), no_name="—")
    if wants_csv(request.args):
        if request.args.get("table") == "stages":
            return csv_response(_csv_name("crm-losses-by-stage", filters), by_stage)
        return csv_response(_csv_name("crm-losses-by-reason", filters), by_reason)
    charts = {}
    if not report.is_empty:
        charts["reasons"] = bar_chart(
            "losses-reasons-chart", _("Lost opportunities by reason"),
            [line.name or _("No reason") for line in report.by_reason],
            [line.lost for line in report.by_reason], value_format=number)
        charts["stages"] = bar_chart(
            "losses-stages-chart", _("Lost opportunities by stage where lost"),
            [line.name or "—" for line in report.by_stage],
            [line.lost for line in report.by_stage], value_format=number, horizontal=False)
    return render_template("crm/reports/losses.html", form=form, filters=filters,
                           report=report, by_reason=by_reason, by_stage=by_stage,
                           charts=charts)
