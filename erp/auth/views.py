"""Login, logout and the user's own preferences."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, logout_user

from ..db import db
from .forms import LoginForm, PreferencesForm
from .services import authenticate, safe_next_url
from .sessions import end_sessions, renew_current_session, start_session

bp = Blueprint("auth", __name__, url_prefix="/auth")

TIMEZONES = (
    "America/Sao_Paulo", "America/Manaus", "America/Belem", "America/Fortaleza",
    "America/Recife", "America/Cuiaba", "America/Porto_Velho", "America/Rio_Branco",
    "America/Noronha", "America/Argentina/Buenos_Aires", "America/Santiago",
    "America/Bogota", "America/Lima", "America/Mexico_City", "America/Montevideo",
    "America/Asuncion", "UTC",
)


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next_url(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("home"))
    form = LoginForm(next=next_url or "")
    status = 200
    if form.validate_on_submit():
        result = authenticate(form.login.data, form.password.data, request.remote_addr or "?")
        if result.throttled:
            minutes = current_app.config["ERP_LOGIN_THROTTLE_MINUTES"]
            form.login.errors.append(
                _("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes)
            )
            status = 429
        elif result.user is None:
            form.password.errors.append(_("Wrong user name or password."))
            status = 401
        else:
            start_session(result.user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=result.user.name), "success")
            return redirect(safe_next_url(form.next.data) or url_for("home"))
    elif request.method == "POST":
        status = 400
    return render_template("erp/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out here and everywhere else: every session and remember cookie ends."""
    if current_user.is_authenticated:
        end_sessions(current_user)
        db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm(obj=current_user)
    languages = current_app.config["ERP_LANGUAGES"]
    form.locale.choices = [("", _("Browser language"))] + list(languages.items())
    form.timezone.choices = [("", _("Company default"))] + [(tz, tz) for tz in TIMEZONES]
    if form.validate_on_submit():
        current_user.locale = form.locale.data or None
        current_user.timezone = form.timezone.data or None
        db.session.commit()
        refresh()  # say it in the language just chosen
        flash(_("Preferences saved."), "success")
        return redirect(url_for("auth.preferences"))
    return render_template("erp/preferences.html", form=form)


@bp.route("/preferences/sign-out-others", methods=["POST"])
@login_required
def sign_out_others():
    """End every session of the user but this one (a lost phone, a shared computer).

    CSRFProtect checks the token of this POST like every other."""
    end_sessions(current_user)
    db.session.commit()
    renew_current_session(current_user._get_current_object())
    flash(_("You have been signed out of every other device."), "success")
    return redirect(url_for("auth.preferences"))
