"""My drafts: unfinished opportunity forms, saved by hand or every 30 s while typing."""

from __future__ import annotations

from datetime import UTC

from flask import jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from erp.auth import permission_required
from erp.errors import InvalidInput
from erp.forms import PostForm, post_action
from erp.i18n import module_i18n
from erp.params import parse_int

from ..permissions import WRITE
from ..services import drafts as service
from . import bp
from .opportunities import draft_payload

_ = module_i18n(__name__).gettext


@bp.route("/drafts")
@permission_required(WRITE)
def drafts():
    return render_template("crm/opportunities/drafts.html",
                           drafts=service.user_drafts(current_user), action_form=PostForm())


@bp.route("/drafts/autosave", methods=["POST"])
@permission_required(WRITE)
def autosave_draft():
    """The form's periodic autosave: the fields as typed; answers the draft's id."""
    draft_id = request.form.get("draft_id", "")
    opportunity_id = request.form.get("opportunity_id", "")
    try:
        draft = service.save_draft(
            draft_payload(), user=current_user,
            draft_id=parse_int(draft_id, min=1), opportunity_id=parse_int(opportunity_id, min=1))
    except InvalidInput as error:
        return jsonify(error={"code": "invalid", "message": str(error)}), 400
    saved_at = draft.updated_at
    if saved_at.tzinfo is None:  # SQLite gives back UTC without saying so
        saved_at = saved_at.replace(tzinfo=UTC)
    return jsonify(draft_id=draft.id, saved_at=saved_at.isoformat())


@bp.route("/drafts/<int:draft_id>")
@permission_required(WRITE)
def open_draft(draft_id: int):
    draft = service.get_draft(draft_id, current_user)
    if draft.opportunity_id:
        return redirect(url_for("crm.edit_opportunity", opportunity_id=draft.opportunity_id,
                                draft=draft.id))
    return redirect(url_for("crm.new_opportunity", draft=draft.id))


@bp.route("/drafts/<int:draft_id>/delete", methods=["POST"])
@permission_required(WRITE)
def delete_draft(draft_id: int):
    draft = service.get_draft(draft_id, current_user)
    return post_action(lambda: service.delete_draft(draft), _("Draft deleted."),
                       url_for("crm.drafts"))
