"""The "New note" form (the account page's Create → Note)."""

from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from erp.auth import permission_required
from erp.auth.services import safe_next_url
from erp.forms import form_view
from erp.i18n import module_i18n
from erp.params import id_arg
from modules.crm.services.scope import get_account_or_404

from .permissions import WRITE
from .services import MAX_BODY, add_note

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

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
    # erp.forms.form_view: GET shows the form; a valid POST saves, flashes and redirects
    # (303); a refused one (the form's validators, or the service's InvalidInput) is shown
    # again with its messages (422).
    return form_view(NoteForm(), save=lambda form: add_note(account, form.body.data,
                                                            user=current_user),
                     template="notes/new.html", success=(_("Note saved."), back),
                     account=account, back=back)
