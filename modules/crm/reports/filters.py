"""The reports' filters: a GET form (period, user, team, type) and what it means in SQL.

Everything a filter offers is already within the viewer's record scope: a rep can choose
only themself, a manager the people and the team they see, an admin everyone. The scope
clause is applied anyway, so a hand-made URL cannot widen a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from wtforms import Form, SelectField, StringField, ValidationError

from erp.auth import scope_clause, visible_teams, visible_users
from erp.auth.models import User
from erp.clock import day_start, local_today
from erp.formats import parse_date
from erp.i18n import module_i18n

from ..models import ACTION_KINDS
from ..services.actions import KIND_LABELS

_l = module_i18n(__name__).lazy_gettext

ALL = ""


def _date(field) -> date | None:
    try:
        value = parse_date(field.data)
    except (TypeError, ValueError):
        raise ValidationError(_l("Use a date such as 31/12/2026.")) from None
    if value is not None and not 1900 <= value.year <= 2999:
        raise ValidationError(_l("Use a date such as 31/12/2026."))
    return value


class ReportFilterForm(Form):
    """Read from the query string (no CSRF: a GET form changes nothing)."""

    start = StringField(_l("From"), render_kw={"type": "date"})
    end = StringField(_l("To"), render_kw={"type": "date"})
    user = SelectField(_l("User"))
    team = SelectField(_l("Team"))
    kind = SelectField(_l("Type"))

    def validate_start(self, field) -> None:
        _date(field)

    def validate_end(self, field) -> None:
        end = _date(field)
        try:
            start = parse_date(self.start.data)
        except (TypeError, ValueError):
            return
        if start and end and end < start:
            raise ValidationError(_l("The end of the period comes before its start."))


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    user_id: int | None = None
    team_id: int | None = None
    kind: str | None = None

    @property
    def start_at(self) -> datetime:
        """The period's first moment (midnight in the user's time zone), in UTC."""
        return day_start(self.start)

    @property
    def end_before(self) -> datetime:
        """The moment after the period (the next day's midnight, local), in UTC."""
        return day_start(self.end + timedelta(days=1))

    def query_args(self, **extra) -> dict:
        """The filters as a query string (for drill-down links)."""
        args = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.user_id:
            args["user"] = self.user_id
        if self.team_id:
            args["team"] = self.team_id
        if self.kind:
            args["kind"] = self.kind
        args.update({k: v for k, v in extra.items() if v not in (None, "")})
        return args


def month_period(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def year_to_date(today: date) -> tuple[date, date]:
    return today.replace(month=1, day=1), today


def build_form(args, user, *, default_period, kinds: bool = False) -> ReportFilterForm:
    """The filter form read from ``args``, with choices limited to the user's scope."""
    form = ReportFilterForm(args)
    start, end = default_period(local_today())
    if not args.get("start"):
        form.start.data = start.isoformat()
    if not args.get("end"):
        form.end.data = end.isoformat()
    every = [(ALL, _l("Everyone"))]
    form.user.choices = every + [(str(u.id), u.name) for u in visible_users(user)]
    teams = visible_teams(user)
    form.team.choices = [(ALL, _l("All teams"))] + [(str(t.id), t.name) for t in teams]
    form.kind.choices = [(ALL, _l("All types"))] + [(k, KIND_LABELS[k]) for k in ACTION_KINDS]
    for field in (form.user, form.team, form.kind):
        if not args.get(field.name):
            field.data = ALL
    form.show_teams = bool(teams)
    form.show_kinds = kinds
    return form


def filters_from(form: ReportFilterForm) -> Filters:
    """The validated form's values (call after ``form.validate()`` returned True)."""
    return Filters(
        start=parse_date(form.start.data),
        end=parse_date(form.end.data),
        user_id=int(form.user.data) if form.user.data else None,
        team_id=int(form.team.data) if form.team.data else None,
        kind=form.kind.data or None,
    )


def people_clauses(column, user, filters: Filters) -> list:
    """WHERE clauses on a user column (an action's user, an opportunity's owner): the
    viewer's scope, then the user and team filters."""
    clauses = [scope_clause(column, user)]
    if filters.user_id:
        clauses.append(column == filters.user_id)
    if filters.team_id:
        clauses.append(column.in_(
            select(User.id).where(User.team_id == filters.team_id).scalar_subquery()))
    return clauses
