"""Merging two accounts or two contacts (issue 18): the side-by-side page, the merge, the
log of merges and their undo. Managers and admins (CRM's manage and write permissions),
both records within their scope (404 otherwise, as everywhere: no leak)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from erp.auth import permission_required
from erp.db import db
from erp.errors import Conflict, InvalidInput
from erp.forms import PostForm, flash_errors, post_action
from erp.i18n import module_i18n
from erp.params import id_arg, parse_int

from ..models import Account, Contact, MergeLog
from ..models.merge import KIND_ACCOUNT, KIND_CONTACT
from ..permissions import MANAGE, WRITE
from ..services import merge as service
from ..services.scope import (
    account_scope,
    contact_scope,
    get_account_or_404,
    get_contact_or_404,
    pick_accounts,
)
from ..services.validation import format_phone, format_tax_id
from . import bp

_ = module_i18n(__name__).gettext

GETTERS = {KIND_ACCOUNT: get_account_or_404, KIND_CONTACT: get_contact_or_404}
ENDPOINTS = {KIND_ACCOUNT: "crm.merge_accounts", KIND_CONTACT: "crm.merge_contacts"}


def _record_url(kind: str, record_id: int) -> str:
    return (url_for("crm.account", account_id=record_id) if kind == KIND_ACCOUNT
            else url_for("crm.contact", contact_id=record_id))


def _merge_page(kind: str):
    """GET: the two records side by side (``?a=`` survives, ``?b=`` is merged into it),
    a value to pick per field, what every module moves, and why it is refused if it is.
    POST: the merge, with the picks (``pick_<field>``: survivor or merged) and the
    versions the page showed (a change since then is a conflict)."""
    a, b = id_arg("a", request.values), id_arg("b", request.values)
    if a is None or b is None:
        return _choose(kind, a, b)
    survivor, merged = GETTERS[kind](a, current_user), GETTERS[kind](b, current_user)
    if request.method == "POST":
        if not PostForm().validate_on_submit():
            abort(400)
        chosen = {name: request.form.get(f"pick_{name}", "")
                  for name in service.picked_fields(kind)}
        versions = (parse_int(request.form.get("version_a")),
                    parse_int(request.form.get("version_b")))
        try:
            service.merge(kind, survivor, merged, chosen, current_user, versions=versions)
        except InvalidInput as error:
            flash_errors(error)
        except Conflict:
            flash(_("One of the records changed while you were comparing them: check the "
                    "values again, then merge."), "danger")
        else:
            flash(_("%(merged)s was merged into %(survivor)s. You can undo it within "
                    "%(days)d days (Merge log).", merged=str(merged), survivor=str(survivor),
                    days=service.UNDO_DAYS), "success")
            return redirect(_record_url(kind, a), 303)
        return redirect(url_for(ENDPOINTS[kind], a=a, b=b), 303)
    return render_template(
        "crm/merge/compare.html", kind=kind, survivor=survivor, merged=merged,
        fields=service.compare(kind, survivor, merged),
        preview=service.preview(kind, survivor, merged),
        problems=service.problems(kind, survivor, merged), form=PostForm(),
        record_url=_record_url, shown=_shown)


def _choose(kind: str, a: int | None, b: int | None):
    """The two records to compare: by id, or the second one found by a search (``q``)
    among those the user sees (archived ones and the first left out)."""
    first = GETTERS[kind](a, current_user) if a is not None else None
    query = request.args.get("q", "").strip()
    found = []
    if query and first is not None:
        from ..services.search import search_contacts

        found = (pick_accounts(query, current_user, 20) if kind == KIND_ACCOUNT
                 else [c for c in search_contacts(query, current_user, 20) if not c.archived])
        found = [record for record in found if record.id != first.id]
    return render_template("crm/merge/choose.html", kind=kind, a=a, b=b, first=first,
                           query=query, found=found)


def _shown(name: str, value) -> str:
    """A field's value as the page shows it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name == "owner_id":
        from erp.auth.models import User

        user = db.session.get(User, value)
        return user.name if user else str(value)
    if name == "category_id":
        from ..models import Category

        category = db.session.get(Category, value)
        return category.name if category else str(value)
    if name == "tax_id":
        return format_tax_id(value)
    if name in ("phone", "mobile"):
        return format_phone(value)
    return str(value)


@bp.route("/accounts/merge", methods=["GET", "POST"])
@permission_required(MANAGE, WRITE)
def merge_accounts():
    return _merge_page(KIND_ACCOUNT)


@bp.route("/contacts/merge", methods=["GET", "POST"])
@permission_required(MANAGE, WRITE)
def merge_contacts():
    return _merge_page(KIND_CONTACT)


def _visible(log: MergeLog) -> bool:
    """Whether the user sees both records of the merge (else it is not theirs to see)."""
    try:
        for record_id in (log.survivor_id, log.merged_id):
            GETTERS[log.kind](record_id, current_user)
    except NotFound:  # out of the user's scope (or gone)
        return False
    return True


@bp.route("/merges")
@permission_required(MANAGE, WRITE)
def merge_log():
    """The newest merges the user may see (both records in their scope), with Undo: the
    records of the last 200 merges read in one query per kind, within the user's scope."""
    logs = list(db.session.scalars(
        select(MergeLog).order_by(MergeLog.at.desc(), MergeLog.id.desc()).limit(200)))
    names = {}
    for kind, model, scope in ((KIND_ACCOUNT, Account, account_scope),
                               (KIND_CONTACT, Contact, contact_scope)):
        ids = {i for log in logs if log.kind == kind for i in (log.survivor_id, log.merged_id)}
        if ids:
            for record in db.session.scalars(select(model).where(model.id.in_(ids),
                                                                 scope(current_user))):
                names[(kind, record.id)] = str(record)
    logs = [log for log in logs if (log.kind, log.survivor_id) in names
            and (log.kind, log.merged_id) in names][:50]
    return render_template("crm/merge/log.html", logs=logs, names=names, form=PostForm(),
                           refusal=service.undo_refusal, record_url=_record_url)


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@permission_required(MANAGE, WRITE)
def undo_merge(merge_id: int):
    log = db.session.get(MergeLog, merge_id)
    if log is None or not _visible(log):
        abort(404)
    return post_action(lambda: service.undo(log, current_user),
                       _("The merge was undone: both records are as they were before it."),
                       _record_url(log.kind, log.survivor_id),
                       failed=url_for("crm.merge_log"))
