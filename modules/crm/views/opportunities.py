"""Opportunities: list with filters and bulk actions, form (items, drafts), page, status."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import defaultload
from werkzeug.datastructures import MultiDict

from erp.auth import permission_required
from erp.auth.models import User
from erp.auth.services import safe_next_url
from erp.db import db
from erp.errors import InvalidInput
from erp.forms import PostForm, form_view, page_size, post_action
from erp.i18n import module_i18n
from erp.paging import gathered, keyset_page, sort_keys
from erp.params import id_arg, parse_int
from erp.validation import LIKE_ESCAPE, like

from ..forms.opportunities import OpportunityForm
from ..models import (
    STATUSES,
    Account,
    Action,
    Opportunity,
    OpportunityChange,
    opportunity_tags,
)
from ..models.search_index import matching_ids
from ..models.search_text import query_terms
from ..permissions import READ, WRITE
from ..services import bulk as bulk_service
from ..services import drafts as draft_service
from ..services import opportunities as service
from ..services import service_types
from ..services import settings as settings_service
from ..services.contacts import account_contact_choices
from ..services.history import FIELD_LABELS
from ..services.scope import get_account_or_404, pick_accounts, small_scope
from . import bp
from .helpers import assignable_users, tag_choices

_ = module_i18n(__name__).gettext
ngettext = module_i18n(__name__).ngettext

# The list's sorts, each ending with the id (keyset paging needs one order for equal
# values) and each read in order from an index within the status and archived filters:
# (status, archived, [column,] id) (crm 0008, issue 15). A date not set is listed last,
# on both databases. (Every status at once is sorted: no index gives that order.)
SORTS = {
    "-created": sort_keys(Opportunity.id, descending=True),
    "title": sort_keys(Opportunity.title, Opportunity.id),
    "-value": sort_keys(Opportunity.estimated_value, Opportunity.id, descending=True),
    "close": sort_keys(Opportunity.expected_close_on, Opportunity.id, nullable=True),
    "next": sort_keys(Opportunity.next_contact_on, Opportunity.id, nullable=True),
}


def opportunity_sort(args) -> tuple:
    """The sort keys the request asks for (the newest first by default)."""
    return SORTS.get(args.get("sort", "-created"), SORTS["-created"])


def filtered_opportunities(args):
    """The list's SELECT from its filters, within the user's scope (also used by bulk)."""
    statement = select(Opportunity).where(service.opportunity_scope(current_user))
    archived = args.get("archived", "0")
    if archived in ("0", "1"):
        statement = statement.where(Opportunity.archived.is_(archived == "1"))
    status = args.get("status", "open")
    if status in STATUSES:
        statement = statement.where(Opportunity.status == status)
    for arg, column in (("stage", Opportunity.stage_id), ("owner", Opportunity.owner_id),
                        ("account", Opportunity.account_id)):
        if (wanted := id_arg(arg, args)) is not None:
            statement = statement.where(column == wanted)
    if (tag_id := id_arg("tag", args)) is not None:
        tagged = select(opportunity_tags.c.opportunity_id).where(
            opportunity_tags.c.tag_id == tag_id)
        statement = statement.where(Opportunity.id.in_(tagged))
    if args.get("priority") == "1":
        statement = statement.where(Opportunity.priority.is_(True))
    query = args.get("q", "").strip()
    if query:
        condition = Opportunity.title.ilike(like(query), escape=LIKE_ESCAPE)
        terms = query_terms(query)
        if terms:
            accounts = matching_ids(Account.__table__, terms, db.engine.dialect.name)
            condition = or_(condition, Opportunity.account_id.in_(accounts))
        statement = statement.where(condition)
    return statement.order_by(*(key.ordered() for key in opportunity_sort(args)))


@bp.route("/opportunities")
@permission_required(READ)
def opportunities():
    keys = opportunity_sort(request.args)
    if small_scope(current_user):  # a few accounts' opportunities: gathered and sorted
        keys = gathered(keys)
    # The rows' accounts' tags are not shown: not loaded with them (issue 15's throughput).
    listed = filtered_opportunities(request.args).options(
        defaultload(Opportunity.account).lazyload(Account.tags))
    pagination = keyset_page(listed, keys, per_page=page_size())
    return render_template(
        "crm/opportunities/list.html", pagination=pagination,
        stages=settings_service.stages(), owners=assignable_users(), tags=tag_choices(),
        reasons=settings_service.loss_reasons(), bulk_actions=bulk_service.BULK_ACTIONS,
    )


@bp.route("/opportunities/bulk", methods=["POST"])
@permission_required(WRITE)
def bulk_opportunities():
    """Bulk actions on the selected rows; deleting asks for a confirmation page first."""
    ids = request.form.getlist("ids")
    action = request.form.get("action", "")
    back = url_for("crm.opportunities", **MultiDict(
        (k[2:], v) for k, v in request.form.items(multi=True) if k.startswith("f_")))
    if action == "delete" and request.form.get("confirmed") != "1":
        targets = db.session.scalars(select(Opportunity).where(
            Opportunity.id.in_([n for i in ids if (n := parse_int(i, min=1)) is not None]),
            service.opportunity_scope(current_user))).all()
        if not targets:
            flash(_("Select at least one opportunity."), "warning")
            return redirect(back)
        return render_template("crm/opportunities/confirm_delete.html", targets=targets,
                               back=back, action_form=PostForm())
    return post_action(
        lambda: bulk_service.bulk_apply(ids, action, user=current_user,
                                   **{k: request.form.get(k) for k in
                                      ("tag_id", "owner_id", "stage_id", "loss_reason_id")}),
        lambda changed: _bulk_done(action, changed, len(set(ids))),
        back)


def _bulk_done(action: str, changed: int, selected: int) -> str:
    """What a bulk action did, in words that say which (deleted is not "changed")."""
    if action == "delete":
        return ngettext("%(num)d opportunity deleted.", "%(num)d opportunities deleted.",
                        changed)
    return ngettext("%(n)d of %(num)d selected opportunity changed.",
                    "%(n)d of %(num)d selected opportunities changed.", selected, n=changed)


def _form_for(opportunity: Opportunity | None, account: Account,
              formdata: MultiDict | None = None) -> OpportunityForm:
    if formdata is not None:
        form = OpportunityForm(formdata=formdata)
    else:
        form = OpportunityForm(obj=opportunity)
    # Linked and not archived, and the one the opportunity names already.
    contacts = account_contact_choices(
        account.id, opportunity.contact_id if opportunity is not None else None)
    users = db.session.scalars(select(User).where(User.active.is_(True))
                               .order_by(User.name)).all()
    current_type = opportunity.service_type_id if opportunity is not None else None
    form.set_choices(contacts=contacts, stages=settings_service.stages(), users=users,
                     tags=settings_service.tags(),
                     service_types=service_types.choosable(current_type))
    if request.method == "GET" and formdata is None:
        form.account_id.data = str(account.id)
        if opportunity is not None:
            for field in ("contact_id", "stage_id", "owner_id", "next_contact_user_id",
                          "internal_contact_user_id", "service_type_id"):
                value = getattr(opportunity, field)
                form[field].data = str(value) if value else ""
            form.tag_ids.data = [str(t.id) for t in opportunity.tags]
            form.watcher_ids.data = [str(u.id) for u in opportunity.watchers]
            form.version.data = opportunity.version
            for field in ("expected_close_on", "next_contact_on", "internal_contact_on"):
                value = getattr(opportunity, field)
                form[field].data = value.isoformat() if value else ""
            while len(form.items) < len(opportunity.items) + 1:
                form.items.append_entry()
            for entry, item in zip(form.items, opportunity.items, strict=False):
                entry.form.description.data = item.description
                entry.form.quantity.data = f"{item.quantity.normalize():f}"
                entry.form.unit_price.data = f"{item.unit_price:.2f}"
        else:
            form.owner_id.data = str(current_user.id)
            form.next_contact_user_id.data = str(current_user.id)
            # The company's "default service type for sales" (seed 002), suggested.
            default_type = service_types.default_id()
            form.service_type_id.data = str(default_type) if default_type else ""
    return form


def draft_payload() -> dict:
    return {key: values if len(values) > 1 or key in ("tag_ids", "watcher_ids") else values[0]
            for key, values in request.form.lists()}


def _save_draft_and_redirect(opportunity: Opportunity | None):
    draft_id = request.form.get("draft_id", "")
    draft = draft_service.save_draft(
        draft_payload(), user=current_user,
        draft_id=parse_int(draft_id), opportunity_id=opportunity.id if opportunity else None)
    flash(_("Draft saved. You can finish it later from “My drafts”."), "success")
    if opportunity is not None:
        return redirect(url_for("crm.edit_opportunity", opportunity_id=opportunity.id,
                                draft=draft.id))
    return redirect(url_for("crm.new_opportunity", draft=draft.id))


def _loaded_draft(opportunity: Opportunity | None):
    """(draft, formdata) when the URL asks to continue a draft of this form."""
    draft_id = id_arg("draft")
    if draft_id is None:
        return None, None
    draft = draft_service.get_draft(draft_id, current_user)
    if (draft.opportunity_id or None) != (opportunity.id if opportunity else None):
        abort(404)
    formdata = MultiDict()
    for key, value in draft.payload.items():
        for item in value if isinstance(value, list) else [value]:
            formdata.add(key, item)
    formdata["draft_id"] = str(draft.id)
    return draft, formdata


@bp.route("/opportunities/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_opportunity():
    draft, formdata = _loaded_draft(None) if request.method == "GET" else (None, None)
    account_id = id_arg("account_id", formdata or request.values)
    if account_id is None:
        # First step: choose the account (the atomic search), then the form.
        query = request.args.get("account_q", "").strip()
        return render_template("crm/opportunities/choose_account.html", query=query,
                               found=pick_accounts(query, current_user))
    account = get_account_or_404(account_id, current_user)
    if request.method == "POST" and "save_draft" in request.form:
        return _save_draft_and_redirect(None)
    return form_view(
        _form_for(None, account, formdata),
        save=lambda form: service.create_opportunity(
            form.service_data(), user=current_user, draft_id=_int(form.draft_id.data)),
        template="crm/opportunities/form.html",
        # Seed 001: after saving, straight to adding the first action.
        success=(_("Opportunity created. Now record its first action."),
                 lambda opportunity: url_for("crm.new_action", opportunity_id=opportunity.id,
                                             next=safe_next_url(request.values.get("next")))),
        aliases={"tags": "tag_ids"}, account=account, opportunity=None, draft=draft)


def _int(value) -> int | None:
    return parse_int(value, min=1)


@bp.route("/opportunities/<int:opportunity_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def edit_opportunity(opportunity_id: int):
    opportunity = service.get_opportunity_or_404(opportunity_id, current_user)
    if request.method == "POST" and "save_draft" in request.form:
        return _save_draft_and_redirect(opportunity)
    draft, formdata = _loaded_draft(opportunity) if request.method == "GET" else (None, None)
    return form_view(
        _form_for(opportunity, opportunity.account, formdata),
        save=lambda form: service.update_opportunity(
            opportunity, form.service_data(), user=current_user,
            expected_version=_int(form.version.data), draft_id=_int(form.draft_id.data)),
        template="crm/opportunities/form.html",
        success=(_("Opportunity saved."),
                 url_for("crm.opportunity", opportunity_id=opportunity.id)),
        conflict=_("Someone else changed this opportunity while you were editing it. "
                   "Save your version as a draft, open the opportunity again, then redo "
                   "your changes."),
        aliases={"tags": "tag_ids"}, account=opportunity.account, opportunity=opportunity,
        draft=draft)


@bp.route("/opportunities/<int:opportunity_id>")
@permission_required(READ)
def opportunity(opportunity_id: int):
    opportunity = service.get_opportunity_or_404(opportunity_id, current_user)
    history = db.session.scalars(
        select(OpportunityChange).where(OpportunityChange.opportunity_id == opportunity.id)
        .order_by(OpportunityChange.at.desc(), OpportunityChange.id.desc()).limit(50)).all()
    actions = db.session.scalars(
        select(Action).where(Action.opportunity_id == opportunity.id,
                             Action.archived.is_(False))
        .order_by(Action.at.desc(), Action.id.desc()).limit(50)).all()
    return render_template("crm/opportunities/detail.html", opportunity=opportunity,
                           history=history, actions=actions, action_form=PostForm(),
                           reasons=settings_service.loss_reasons(),
                           stages=settings_service.stages(),
                           change_labels=FIELD_LABELS)


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def respond(opportunity: Opportunity, message: str | None, error: InvalidInput | None):
    """JSON for the funnel's drag and drop, a redirect with a message for plain forms."""
    texts = [str(m) for messages in error.errors.values() for m in messages] if error else []
    if wants_json():
        if error:
            return jsonify(error={"code": "invalid", "message": " ".join(texts),
                                  "fields": {k: [str(m) for m in v]
                                             for k, v in error.errors.items()}}), 422
        return jsonify(id=opportunity.id, stage_id=opportunity.stage_id,
                       status=opportunity.status, message=message)
    for text in texts:
        flash(text, "danger")
    if message and not error:
        flash(message, "success")
    back = safe_next_url(request.form.get("next"))
    return redirect(back or url_for("crm.opportunity", opportunity_id=opportunity.id))


@bp.route("/opportunities/<int:opportunity_id>/status", methods=["POST"])
@permission_required(WRITE)
def opportunity_status(opportunity_id: int):
    """Won, lost (with a reason) or reopened; from the page, the list or the funnel."""
    opportunity = service.get_opportunity_or_404(opportunity_id, current_user)
    status = request.form.get("status")
    try:
        if status == "won":
            service.mark_won(opportunity, user=current_user)
            message = _("Marked as won. %(account)s is now a customer.",
                        account=opportunity.account.display_name)
        elif status == "lost":
            service.mark_lost(opportunity, user=current_user,
                              loss_reason_id=request.form.get("loss_reason_id"),
                              note=request.form.get("loss_note"))
            message = _("Marked as lost.")
        elif status == "open":
            service.reopen(opportunity, user=current_user)
            message = _("Opportunity reopened.")
        else:
            abort(400)
    except InvalidInput as error:
        db.session.rollback()
        return respond(opportunity, None, error)
    return respond(opportunity, message, None)


@bp.route("/opportunities/<int:opportunity_id>/stage", methods=["POST"])
@permission_required(WRITE)
def opportunity_stage(opportunity_id: int):
    """A move in the funnel: by drag and drop (JSON) or the card's stage selector."""
    opportunity = service.get_opportunity_or_404(opportunity_id, current_user)
    try:
        service.move_to_stage(opportunity, request.form.get("stage_id"), user=current_user)
    except InvalidInput as error:
        db.session.rollback()
        return respond(opportunity, None, error)
    return respond(opportunity, _("Moved to %(stage)s.", stage=opportunity.stage.name), None)


@bp.route("/opportunities/<int:opportunity_id>/archive", methods=["POST"])
@permission_required(WRITE)
def archive_opportunity(opportunity_id: int):
    opportunity = service.get_opportunity_or_404(opportunity_id, current_user)
    action = "archive" if request.form.get("archived", "1") == "1" else "unarchive"
    return post_action(
        lambda: bulk_service.bulk_apply([opportunity.id], action, user=current_user),
        _("Opportunity archived.") if action == "archive" else _("Opportunity restored."),
        url_for("crm.opportunity", opportunity_id=opportunity.id))


@bp.route("/opportunities/<int:opportunity_id>/delete", methods=["GET", "POST"])
@permission_required(WRITE)
def delete_opportunity(opportunity_id: int):
    """Deleting cannot be undone (seed 001): a page says so and asks to confirm."""
    opportunity = service.get_opportunity_or_404(opportunity_id, current_user)
    if request.method == "POST" and request.form.get("confirmed") == "1":
        return post_action(
            lambda: bulk_service.bulk_apply([opportunity.id], "delete", user=current_user),
            _("Opportunity deleted."), url_for("crm.account", account_id=opportunity.account_id))
    return render_template("crm/opportunities/confirm_delete.html", targets=[opportunity],
                           back=url_for("crm.opportunity", opportunity_id=opportunity.id),
                           action_form=PostForm(), single=True)
