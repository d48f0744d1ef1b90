"""The sales manager's CRM settings: funnel stages, loss reasons, tags (seeds 001, 004)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from erp.auth import permission_required
from erp.db import db
from erp.params import parse_int

from ..forms_settings import (
    ArchiveForm,
    DeleteForm,
    LossReasonForm,
    StageDeleteForm,
    StageForm,
    TagForm,
)
from ..models import LossReason, Opportunity, Stage, Tag, account_tags, opportunity_tags
from ..permissions import MANAGE
from ..services import settings as service
from ..services.errors import InvalidInput
from . import bp
from .helpers import apply_errors


def _get_or_404(model, record_id: int):
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    return record


def _counts(column) -> dict[int, int]:
    """How many rows reference each id: one GROUP BY, never a query per row."""
    return {key: count for key, count in db.session.execute(
        select(column, func.count()).group_by(column)) if key is not None}


def _save(form, save, *args):
    """Run a service's save; on bad input, put its messages on the form and return None."""
    try:
        return save(form.service_data(), *args)
    except InvalidInput as error:
        db.session.rollback()
        apply_errors(form, error)
        return None


@bp.route("/settings")
@permission_required(MANAGE)
def settings():
    return redirect(url_for("crm.settings_stages"))


# --- stages ----------------------------------------------------------------------


def _stages_page(form: StageForm | None = None, delete_form: StageDeleteForm | None = None,
                 failed_id: int | None = None, status: int = 200):
    stages = service.stages()
    return render_template(
        "crm/settings/stages.html", stages=stages, counts=_counts(Opportunity.stage_id),
        max_stages=service.max_stages(), form=form or StageForm(formdata=None),
        delete_form=delete_form, failed_id=failed_id), status


@bp.route("/settings/stages", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_stages():
    form = StageForm()
    if form.is_submitted():
        if form.validate() and (stage := _save(form, service.save_stage)) is not None:
            flash(_("Stage %(name)s added.", name=stage.name), "success")
            return redirect(url_for("crm.settings_stages"))
        return _stages_page(form, status=422)
    return _stages_page()


@bp.route("/settings/stages/<int:stage_id>/edit", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_edit_stage(stage_id: int):
    stage = _get_or_404(Stage, stage_id)
    form = StageForm(obj=stage)
    if form.is_submitted():
        if form.validate() and _save(form, service.save_stage, stage) is not None:
            flash(_("Stage %(name)s saved.", name=stage.name), "success")
            return redirect(url_for("crm.settings_stages"))
        return render_template("crm/settings/stage_form.html", form=form, stage=stage), 422
    return render_template("crm/settings/stage_form.html", form=form, stage=stage)


@bp.route("/settings/stages/<int:stage_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def settings_delete_stage(stage_id: int):
    stage = _get_or_404(Stage, stage_id)
    form = StageDeleteForm()
    if not form.validate_on_submit():
        abort(400)
    target = str(form.move_to.data or "")
    move_to = db.session.get(Stage, move_id) if (move_id := parse_int(target, min=1)) else None
    name = stage.name
    try:
        moved = service.delete_stage(stage, move_to)
    except InvalidInput as error:
        db.session.rollback()
        apply_errors(form, error)
        return _stages_page(delete_form=form, failed_id=stage_id, status=422)
    if moved:
        flash(ngettext("Stage %(name)s deleted; %(num)d opportunity moved to %(target)s.",
                       "Stage %(name)s deleted; %(num)d opportunities moved to %(target)s.",
                       moved, name=name, target=move_to.name), "success")
    else:
        flash(_("Stage %(name)s deleted.", name=name), "success")
    return redirect(url_for("crm.settings_stages"))


# --- loss reasons ----------------------------------------------------------------


def _loss_reasons_page(form: LossReasonForm | None = None, status: int = 200):
    return render_template(
        "crm/settings/loss_reasons.html", reasons=service.loss_reasons(include_archived=True),
        counts=_counts(Opportunity.loss_reason_id),
        form=form or LossReasonForm(formdata=None), action_form=DeleteForm()), status


@bp.route("/settings/loss-reasons", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_loss_reasons():
    form = LossReasonForm()
    if form.is_submitted():
        if form.validate() and (reason := _save(form, service.save_loss_reason)) is not None:
            flash(_("Loss reason %(name)s added.", name=reason.name), "success")
            return redirect(url_for("crm.settings_loss_reasons"))
        return _loss_reasons_page(form, status=422)
    return _loss_reasons_page()


@bp.route("/settings/loss-reasons/<int:reason_id>/edit", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_edit_loss_reason(reason_id: int):
    reason = _get_or_404(LossReason, reason_id)
    form = LossReasonForm(obj=reason)
    if form.is_submitted():
        if form.validate() and _save(form, service.save_loss_reason, reason) is not None:
            flash(_("Loss reason %(name)s saved.", name=reason.name), "success")
            return redirect(url_for("crm.settings_loss_reasons"))
        return render_template("crm/settings/loss_reason_form.html", form=form,
                               reason=reason), 422
    return render_template("crm/settings/loss_reason_form.html", form=form, reason=reason)


@bp.route("/settings/loss-reasons/<int:reason_id>/archive", methods=["POST"])
@permission_required(MANAGE)
def settings_archive_loss_reason(reason_id: int):
    reason = _get_or_404(LossReason, reason_id)
    form = ArchiveForm()
    if not form.validate_on_submit():
        abort(400)
    archive = form.archived.data != "0"
    service.set_loss_reason_archived(reason, archive)
    flash(_("Loss reason %(name)s archived: it is no longer offered.", name=reason.name)
          if archive else _("Loss reason %(name)s restored.", name=reason.name), "success")
    return redirect(url_for("crm.settings_loss_reasons"))


@bp.route("/settings/loss-reasons/<int:reason_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def settings_delete_loss_reason(reason_id: int):
    reason = _get_or_404(LossReason, reason_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    name = reason.name
    try:
        service.delete_loss_reason(reason)
    except InvalidInput as error:
        db.session.rollback()
        for messages in error.errors.values():
            for message in messages:
                flash(str(message), "danger")
        return redirect(url_for("crm.settings_loss_reasons"))
    flash(_("Loss reason %(name)s deleted.", name=name), "success")
    return redirect(url_for("crm.settings_loss_reasons"))


# --- tags ---------------------------------------------------------------------------


def _tag_uses() -> dict[int, int]:
    """On how many records (opportunities and accounts) each tag is: two GROUP BYs."""
    uses = _counts(opportunity_tags.c.tag_id)
    for tag_id, count in _counts(account_tags.c.tag_id).items():
        uses[tag_id] = uses.get(tag_id, 0) + count
    return uses


def _tags_page(form: TagForm | None = None, status: int = 200):
    return render_template("crm/settings/tags.html", tags=service.tags(), uses=_tag_uses(),
                           form=form or TagForm(formdata=None), action_form=DeleteForm()), status


@bp.route("/settings/tags", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_tags():
    form = TagForm()
    if form.is_submitted():
        if form.validate() and (tag := _save(form, service.save_tag)) is not None:
            flash(_("Tag %(name)s added.", name=tag.name), "success")
            return redirect(url_for("crm.settings_tags"))
        return _tags_page(form, status=422)
    return _tags_page()


@bp.route("/settings/tags/<int:tag_id>/edit", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_edit_tag(tag_id: int):
    tag = _get_or_404(Tag, tag_id)
    form = TagForm(obj=tag)
    if form.is_submitted():
        if form.validate() and _save(form, service.save_tag, tag) is not None:
            flash(_("Tag %(name)s saved.", name=tag.name), "success")
            return redirect(url_for("crm.settings_tags"))
        return render_template("crm/settings/tag_form.html", form=form, tag=tag), 422
    return render_template("crm/settings/tag_form.html", form=form, tag=tag)


@bp.route("/settings/tags/<int:tag_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def settings_delete_tag(tag_id: int):
    tag = _get_or_404(Tag, tag_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    name = tag.name
    used = service.delete_tag(tag)
    flash(ngettext("Tag %(name)s deleted; it was removed from %(num)d record.",
                   "Tag %(name)s deleted; it was removed from %(num)d records.",
                   used, name=name), "success")
    return redirect(url_for("crm.settings_tags"))
