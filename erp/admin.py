"""The admin interface (Flask-Admin), for admins only.

Every view derives from :class:`SecureModelView` (the outbox, a page of its own, from
:class:`OutboxView`): anonymous visitors are sent to the login page, logged-in users who
are not admins get 403. Forms use Flask-WTF's ``FlaskForm`` so the one CSRF token of the
app protects them too.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.theme import Bootstrap4Theme
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, SelectField, SelectMultipleField
from wtforms.validators import Length, Optional, ValidationError

from . import mail
from .admin_bounds import BoundedAdminArgs
from .admin_format import AdminFormat, module_summary
from .auth.admin_views import LoginAttemptColumns, UserSessionsMixin
from .auth.models import SCOPE_ALL, SCOPE_OWN, SCOPE_TEAM, LoginAttempt, Role, Team, User
from .db import db
from .models import InstalledModule
from .params import page_arg
from .registry import AdminView, Permission


class _AdminOnly:
    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.is_admin

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)


class SecureAdminIndexView(_AdminOnly, AdminIndexView):
    @expose("/")
    def index(self):
        modules = db.session.scalars(db.select(InstalledModule).order_by(InstalledModule.name))
        return self.render("admin/erp_index.html", modules=list(modules),
                           module_summary=module_summary)


class SecureModelView(AdminFormat, BoundedAdminArgs, _AdminOnly, ModelView):
    """Base for every admin view, the host's and the modules': in the user's language,
    with values formatted as in the rest of the app (erp/admin_format.py)."""

    form_base_class = FlaskForm
    page_size = 50
    can_view_details = True

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        # Flask-Admin's Unique validator knows the record being edited by ``form._obj``,
        # which its own form base sets and FlaskForm does not: without it, saving a user
        # unchanged answered "Already exists." for their own user name.
        form._obj = obj
        return form


class UserAdmin(UserSessionsMixin, SecureModelView):
    column_list = ("username", "name", "email", "team", "roles", "active", "locale")
    column_searchable_list = ("username", "name", "email")
    column_filters = ("active", "team.name")
    column_labels = {"username": _l("User name"), "name": _l("Name"), "email": _l("E-mail"),
                     "team": _l("Team"), "team.name": _l("Team"), "roles": _l("Roles"),
                     "active": _l("Active"), "locale": _l("Language"),
                     "timezone": _l("Time zone")}
    form_columns = ("username", "name", "email", "new_password", "team", "roles", "active",
                    "locale", "timezone")
    column_details_exclude_list = ("password_hash", "session_token")
    column_formatters = {"locale": lambda _v, _c, user, _n: current_app.config[
        "ERP_LANGUAGES"].get(user.locale, user.locale)}
    form_extra_fields = {
        "new_password": PasswordField(
            _l("New password"), validators=[Optional(), Length(min=8)],
            description=_l("Leave empty to keep the current password."),
        ),
    }

    def on_model_change(self, form, model, is_created):
        if form.new_password.data:
            model.set_password(form.new_password.data)
        elif is_created:
            raise ValidationError(_l("A new user needs a password."))
        model.username = model.username.strip().lower()
        model.email = model.email.strip().lower()

    def delete_model(self, model):
        if model.id == current_user.id:
            raise ValidationError(_l("You cannot delete your own user."))
        return super().delete_model(model)


class RoleAdmin(SecureModelView):
    column_list = ("name", "description", "scope", "is_admin", "permissions")
    column_labels = {"name": _l("Name"), "description": _l("Description"), "scope": _l("Scope"),
                     "is_admin": _l("Administrator"), "permissions": _l("Permissions")}
    form_columns = ("name", "description", "is_admin", "scope", "permissions")
    form_overrides = {"scope": SelectField, "permissions": SelectMultipleField}

    def _with_choices(self, form):
        form.scope.choices = [(SCOPE_OWN, _l("Own records")), (SCOPE_TEAM, _l("Team records")),
                              (SCOPE_ALL, _l("All records"))]
        registry = current_app.extensions["erp"]
        form.permissions.choices = [
            (p.key, f"{p.key} — {p.label}" if p.label else p.key)
            for p in sorted(registry.items(Permission, check_permission=False),
                            key=lambda p: p.key)
        ]
        return form

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._with_choices(super().edit_form(obj))


class LoginAttemptAdmin(LoginAttemptColumns, SecureModelView):
    pass


class TeamAdmin(SecureModelView):
    column_list = ("name", "members")
    column_labels = {"members": _l("Members")}
    form_columns = ("name", "members")


class ModuleAdmin(SecureModelView):
    can_create = can_edit = can_delete = False
    column_list = ("name", "version", "summary", "depends", "enabled", "origin", "installed_at",
                   "updated_at")
    column_default_sort = "name"
    column_labels = {"version": _l("Version"), "summary": _l("Summary"),
                     "depends": _l("Depends on"), "enabled": _l("Enabled"),
                     "origin": _l("Origin"), "installed_at": _l("Installed"),
                     "updated_at": _l("Updated")}
    column_formatters = {"summary": lambda _v, _c, module, _n: module_summary(module.name,
                                                                             module.summary)}


class OutboxView(_AdminOnly, BaseView):
    """The e-mail outbox (erp/mail.py): newest first, paged, filtered by state, in the
    user's language and time zone; failed or waiting messages can be sent again."""

    page_size = 50

    @expose("/")
    def index(self):
        state = request.args.get("state", "")
        state = state if state in mail.STATUSES else ""
        page = page_arg()
        query = select(mail.OutboxMessage).order_by(mail.OutboxMessage.created_at.desc(),
                                                    mail.OutboxMessage.id.desc())
        if state:
            query = query.where(mail.OutboxMessage.status == state)
        pagination = db.paginate(query, page=page, per_page=self.page_size, error_out=False)
        return self.render("admin/outbox.html", pagination=pagination, state=state,
                           states=[(status, mail.status_label(status))
                                   for status in mail.STATUSES],
                           status_label=mail.status_label, configured=mail.mail_configured(),
                           can_send_again=(mail.QUEUED, mail.FAILED))

    @expose("/<int:message_id>/send-again", methods=("POST",))
    def send_again(self, message_id: int):
        """Queue a failed or waiting message again, due now (CSRF-checked like every POST)."""
        if not mail.send_again(message_id):
            flash(_("This e-mail cannot be sent again: it is being sent or was sent already."),
                  "error")
        elif mail.mail_configured():
            flash(_("The e-mail is queued again: it will be sent shortly."), "success")
        else:
            flash(_("The e-mail is queued again; it will be sent once a mail server is "
                    "configured."), "warning")
        state = request.form.get("state", "")
        page = request.form.get("page", "")
        return redirect(url_for(".index", state=state if state in mail.STATUSES else None,
                                page=int(page) if page.isdigit() and page != "1" else None))


def init_app(app, registry) -> Admin:
    admin = Admin(
        app,
        name="Mosaic ERP",
        theme=Bootstrap4Theme(base_template="admin/erp_base.html", fluid=True),
        index_view=SecureAdminIndexView(url="/admin", name=_l("Home")),
    )
    system = _l("System")
    admin.add_view(UserAdmin(User, db, name=_l("Users"), category=system))
    admin.add_view(RoleAdmin(Role, db, name=_l("Roles"), category=system))
    admin.add_view(TeamAdmin(Team, db, name=_l("Teams"), category=system))
    admin.add_view(ModuleAdmin(InstalledModule, db, name=_l("Modules"), category=system))
    admin.add_view(LoginAttemptAdmin(LoginAttempt, db, name=_l("Login attempts"),
                                     category=system))
    admin.add_view(OutboxView(name=_l("Outbox"), category=system, endpoint="outbox",
                              url="/admin/outbox"))
    from .audit.admin import add_view as add_audit_view  # it builds on SecureModelView
    from .webhooks.admin import add_views as add_webhook_views  # so do these

    add_audit_view(admin, system)
    add_webhook_views(admin, system)  # endpoints and the delivery log (issue 18)
    for contribution in registry.items(AdminView, check_permission=False):
        view_class = contribution.view_class or SecureModelView
        if not issubclass(view_class, SecureModelView):
            raise TypeError(f"admin view for {contribution.key} must derive from SecureModelView")
        admin.add_view(view_class(contribution.model, db, name=contribution.name,
                                  category=contribution.category,
                                  endpoint=contribution.key))
    return admin
