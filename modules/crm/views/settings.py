"""The sales manager's CRM settings: funnel stages, loss reasons, tags (seeds 001, 004)."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from sqlalchemy import func, select

from erp.auth import permission_required
from erp.db import db
from erp.forms import PostForm, form_view, post_action
from erp.i18n import module_i18n
from erp.params import parse_int

from ..forms.settings import (
    ArchiveForm,
    LossReasonForm,
    StageDeleteForm,
    StageForm,
    TagForm,
)
from ..models import LossReason, Opportunity, Stage, Tag, account_tags, opportunity_tags
from ..permissions import MANAGE
from ..services import settings as service
from . import bp

_ = module_i18n(__name__).gettext
ngettext = module_i18n(__name__).ngettext


def _get_or_404(model, record_id: int):
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    return record


def _counts(column) -> dict[int, int]:
    """How many rows reference each id: one GROUP BY, never a query per row."""
    return {key: count for key, count in db.session.execute(
        select(column, func.count()).group_by(column)) if key is not None}


@bp.route("/settings")
@permission_required(MANAGE)
def settings():
    return redirect(url_for("crm.settings_stages"))


# --- stages ----------------------------------------------------------------------


def _stages_page(form: StageForm | None = None, delete_form: StageDeleteForm | None = None,
                 failed_id: int | None = None) -> str:
    stages = service.stages()
    return render_template(
        "crm/settings/stages.html", stages=stages, counts=_counts(Opportunity.stage_id),
        max_stages=service.max_stages(), form=form or StageForm(formdata=None),
        delete_form=delete_form, failed_id=failed_id)


@bp.route("/settings/stages", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_stages():
    return form_view(
        StageForm(), save=lambda form: service.save_stage(form.service_data()),
        template=lambda form: _stages_page(form),
        success=(lambda stage: _("Stage %(name)s added.", name=stage.name),
                 url_for("crm.settings_stages")))


@bp.route("/settings/stages/<int:stage_id>/edit", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_edit_stage(stage_id: int):
    stage = _get_or_404(Stage, stage_id)
    return form_view(
        StageForm(obj=stage), save=lambda form: service.save_stage(form.service_data(), stage),
        template="crm/settings/stage_form.html",
        success=(lambda _saved: _("Stage %(name)s saved.", name=stage.name),
                 url_for("crm.settings_stages")),
        stage=stage)


@bp.route("/settings/stages/<int:stage_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def settings_delete_stage(stage_id: int):
    """Delete a stage, moving its opportunities (if any) to the chosen one; a refusal
    shows the stages page with the message at that stage's delete form."""
    stage = _get_or_404(Stage, stage_id)
    name = stage.name

    def delete(form):
        move_id = parse_int(str(form.move_to.data or ""), min=1)
        move_to = db.session.get(Stage, move_id) if move_id else None
        return service.delete_stage(stage, move_to), move_to

    def deleted(outcome) -> str:
        moved, move_to = outcome
        if moved:
            return ngettext("Stage %(name)s deleted; %(num)d opportunity moved to %(target)s.",
                            "Stage %(name)s deleted; %(num)d opportunities moved to "
                            "%(target)s.", moved, name=name, target=move_to.name)
        return _("Stage %(name)s deleted.", name=name)

    return form_view(
        StageDeleteForm(), save=delete,
        template=lambda form: _stages_page(delete_form=form, failed_id=stage_id),
        success=(deleted, url_for("crm.settings_stages")))


# --- loss reasons ----------------------------------------------------------------


def _loss_reasons_page(form: LossReasonForm | None = None) -> str:
    return render_template(
        "crm/settings/loss_reasons.html", reasons=service.loss_reasons(include_archived=True),
        counts=_counts(Opportunity.loss_reason_id),
        form=form or LossReasonForm(formdata=None), action_form=PostForm())


@bp.route("/settings/loss-reasons", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_loss_reasons():
    return form_view(
        LossReasonForm(), save=lambda form: service.save_loss_reason(form.service_data()),
        template=lambda form: _loss_reasons_page(form),
        success=(lambda reason: _("Loss reason %(name)s added.", name=reason.name),
                 url_for("crm.settings_loss_reasons")))


@bp.route("/settings/loss-reasons/<int:reason_id>/edit", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_edit_loss_reason(reason_id: int):
    reason = _get_or_404(LossReason, reason_id)
    return form_view(
        LossReasonForm(obj=reason),
        save=lambda form: service.save_loss_reason(form.service_data(), reason),
        template="crm/settings/loss_reason_form.html",
        success=(lambda _saved: _("Loss reason %(name)s saved.", name=reason.name),
                 url_for("crm.settings_loss_reasons")),
        reason=reason)


@bp.route("/settings/loss-reasons/<int:reason_id>/archive", methods=["POST"])
@permission_required(MANAGE)
def settings_archive_loss_reason(reason_id: int):
    reason = _get_or_404(LossReason, reason_id)
    form = ArchiveForm()
    if not form.validate_on_submit():
        abort(400)
    archive = form.archived.data != "0"
    return post_action(
        lambda: service.set_loss_reason_archived(reason, archive),
        _("Loss reason %(name)s archived: it is no longer offered.", name=reason.name)
        if archive else _("Loss reason %(name)s restored.", name=reason.name),
        url_for("crm.settings_loss_reasons"))


@bp.route("/settings/loss-reasons/<int:reason_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def settings_delete_loss_reason(reason_id: int):
    reason = _get_or_404(LossReason, reason_id)
    return post_action(lambda: service.delete_loss_reason(reason),
                       _("Loss reason %(name)s deleted.", name=reason.name),
                       url_for("crm.settings_loss_reasons"))


# --- tags ---------------------------------------------------------------------------


def _tag_uses() -> dict[int, int]:
    """On how many records (opportunities and accounts) each tag is: two GROUP BYs."""
    uses = _counts(opportunity_tags.c.tag_id)
    for tag_id, count in _counts(account_tags.c.tag_id).items():
        uses[tag_id] = uses.get(tag_id, 0) + count
    return uses


def _tags_page(form: TagForm | None = None) -> str:
    return render_template("crm/settings/tags.html", tags=service.tags(), uses=_tag_uses(),
                           form=form or TagForm(formdata=None), action_form=PostForm())


@bp.route("/settings/tags", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_tags():
    return form_view(
        TagForm(), save=lambda form: service.save_tag(form.service_data()),
        template=lambda form: _tags_page(form),
        success=(lambda tag: _("Tag %(name)s added.", name=tag.name),
                 url_for("crm.settings_tags")))


@bp.route("/settings/tags/<int:tag_id>/edit", methods=["GET", "POST"])
@permission_required(MANAGE)
def settings_edit_tag(tag_id: int):
    tag = _get_or_404(Tag, tag_id)
    return form_view(
        TagForm(obj=tag), save=lambda form: service.save_tag(form.service_data(), tag),
        template="crm/settings/tag_form.html",
        success=(lambda _saved: _("Tag %(name)s saved.", name=tag.name),
                 url_for("crm.settings_tags")),
        tag=tag)


@bp.route("/settings/tags/<int:tag_id>/delete", methods=["POST"])
@permission_required(MANAGE)
def settings_delete_tag(tag_id: int):
    tag = _get_or_404(Tag, tag_id)
    name = tag.name
    return post_action(
        lambda: service.delete_tag(tag),
        lambda used: ngettext("Tag %(name)s deleted; it was removed from %(num)d record.",
                              "Tag %(name)s deleted; it was removed from %(num)d records.",
                              used, name=name),
        url_for("crm.settings_tags"))
