"""The funnel (kanban): a column per stage with count and value, cards that move."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy import and_, false
from werkzeug.datastructures import MultiDict

from erp.auth import permission_required
from erp.clock import local_today
from erp.db import db
from erp.forms import PostForm
from erp.params import id_arg, int_arg

from ..models import STATUS_OPEN, Opportunity
from ..permissions import READ
from ..services import settings as settings_service
from ..services.kanban import column_cards, column_figures, totals_select
from . import bp
from .helpers import assignable_users, tag_choices
from .opportunities import filtered_opportunities

DEFAULT_CARDS = 20
MAX_CARDS = 500


def _open_filters() -> MultiDict:
    args = MultiDict(request.args)
    args["status"], args["archived"] = "open", "0"
    args.pop("stage", None)
    return args


@bp.route("/funnel")
@permission_required(READ)
def funnel():
    """Counts and totals come from the open pipeline's totals (crm 0023) when the filters
    are on its key, else from one GROUP BY over an index; the cards of every column
    from one statement of index range reads (one per column, LIMIT before any join), then
    one load of those cards: the same statements whatever the number of opportunities."""
    args = _open_filters()
    where = open_opportunities(args)
    owner_id = id_arg("owner", args)
    totals = column_figures(db.session.execute(
        totals_select(current_user, args, where, owner_id)))
    page = current_app.config.get("CRM_FUNNEL_CARDS", DEFAULT_CARDS)
    stages = settings_service.stages()
    limits = {stage.id: _int_arg(f"limit_{stage.id}", page) for stage in stages}
    cards = column_cards(where, limits)
    columns = []
    for stage in stages:
        count, value = totals.get(stage.id, (0, 0))
        shown = cards.get(stage.id, [])
        columns.append({"stage": stage, "cards": shown, "count": count, "value": value,
                        "more": count - len(shown), "next_limit": limits[stage.id] + page})
    return render_template(
        "crm/opportunities/funnel.html", columns=columns, today=local_today(),
        stages=stages, reasons=settings_service.loss_reasons(),
        owners=assignable_users(), tags=tag_choices(), action_form=PostForm(),
    )


def open_opportunities(args):
    """The WHERE clause of the funnel's opportunities: the list's filters (scope, owner,
    tag, search...) on the open, kept ones, status and archived compared with = so that
    both databases read them from the funnel's indexes."""
    listed = filtered_opportunities(args).whereclause
    return and_(Opportunity.status == STATUS_OPEN, Opportunity.archived == false(), listed)


def _int_arg(name: str, default: int) -> int:
    """A column's card limit; past MAX_CARDS ("show more" at the end) it stays there."""
    return min(int_arg(name, default, min=1, max=None), MAX_CARDS)
