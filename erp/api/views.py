"""The user's API tokens page: create (the token is shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from .tokens import NAME_MAX_LENGTH, create_token, revoke_token, tokens_of

bp = Blueprint("api_tokens", __name__, url_prefix="/auth/api-tokens")


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)],
                       description=_l("Where the token will be used, e.g. 'Website forms'."))


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    response = make_response(render_template(
        "erp/api_tokens.html", form=form, tokens=tokens_of(current_user), new_token=new_token),
        status)
    if new_token:  # the only time the token is ever visible: keep it out of every cache
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    form = TokenForm()
    if form.validate_on_submit():
        _row, token = create_token(current_user, form.name.data)
        return _page(TokenForm(formdata=None), new_token=token, status=201)
    return _page(form, status=400 if form.errors else 200)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    row = revoke_token(current_user, token_id)
    if row is None:
        abort(404)
    flash(_("Token “%(name)s” revoked: it no longer opens the API.", name=row.name), "success")
    return redirect(url_for("api_tokens.index"))
