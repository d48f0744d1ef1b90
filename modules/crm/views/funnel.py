"""The funnel (kanban): a column per stage with count and value, cards that move."""

from __future__ import annotations

from flask import current_app, render_template, request
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from erp.auth import permission_required
from erp.clock import local_today
from erp.db import db
from erp.forms import PostForm
from erp.params import int_arg

from ..models import Opportunity
from ..permissions import READ
from ..services import settings as settings_service
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
    """Counts and totals come from one GROUP BY; each column loads a bounded number of cards."""
    base = filtered_opportunities(_open_filters())
    ids = base.with_only_columns(Opportunity.id).order_by(None).subquery()
    totals = {
        stage_id: (count, value)
        for stage_id, count, value in db.session.execute(
            select(Opportunity.stage_id, func.count(Opportunity.id),
                   func.coalesce(func.sum(Opportunity.estimated_value), 0))
            .where(Opportunity.id.in_(select(ids.c.id)))
            .group_by(Opportunity.stage_id))
    }
    page = current_app.config.get("CRM_FUNNEL_CARDS", DEFAULT_CARDS)
    columns = []
    for stage in settings_service.stages():
        limit = _int_arg(f"limit_{stage.id}", page)
        cards = db.session.scalars(
            base.where(Opportunity.stage_id == stage.id).order_by(None)
            .order_by(Opportunity.priority.desc(), Opportunity.next_contact_on.is_(None),
                      Opportunity.next_contact_on, Opportunity.id.desc())
            .limit(limit)).all()
        count, value = totals.get(stage.id, (0, 0))
        columns.append({"stage": stage, "cards": cards, "count": count, "value": value,
                        "more": count - len(cards), "next_limit": limit + page})
    return render_template(
        "crm/opportunities/funnel.html", columns=columns, today=local_today(),
        stages=settings_service.stages(), reasons=settings_service.loss_reasons(),
        owners=assignable_users(), tags=tag_choices(), action_form=PostForm(),
    )


def _int_arg(name: str, default: int) -> int:
    """A column's card limit; past MAX_CARDS ("show more" at the end) it stays there."""
    return min(int_arg(name, default, min=1, max=None), MAX_CARDS)
