"""The "New note" form (the account page's Create → Note), and the notes' admin view."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from erp.admin import SecureModelView
from erp.auth import permission_required
from erp.auth.services import safe_next_url
from erp.params import id_arg
from modules.crm.services.scope import get_account_or_404

from .permissions import WRITE
from .services import MAX_BODY, add_note

bp = Blueprint("notes", __name__, url_prefix="/notes", template_folder="templates")


class NoteForm(FlaskForm):  # FlaskForm: the app's CSRF token is checked on POST
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=MAX_BODY)],
                         render_kw={"rows": 8, "maxlength": MAX_BODY})


@bp.route("/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_note():
    """GET/POST /notes/new?account_id=<id>&next=<where to go back to>."""
    account_id = id_arg("account_id")  # erp.params: garbage or out of range is None
    if account_id is None:
        abort(404)
    # Record scope: an account the user may not see is a 404, as in CRM itself.
    account = get_account_or_404(account_id, current_user)
    back = safe_next_url(request.args.get("next")) or url_for(
        "crm.account", account_id=account.id, tab="notes")
    form = NoteForm()
    if form.validate_on_submit():
        add_note(account, form.body.data, user=current_user)
        flash(_("Note saved."), "success")
        return redirect(back)
    status = 422 if request.method == "POST" else 200
    return render_template("notes/new.html", form=form, account=account, back=back), status


class NoteAdmin(SecureModelView):
    column_list = ("created_at", "account", "author", "body")
    column_labels = {"created_at": _l("Written"), "account": _l("Account"),
                     "author": _l("Author"), "body": _l("Note")}
    column_searchable_list = ("body",)
    column_default_sort = ("created_at", True)
    form_columns = ("body",)  # notes are written from the account page; admins may fix them
    can_create = False
