"""Admin → Webhooks: the endpoints (URL, events, secret, active) and the delivery log, with
"Send again". Admins only, in the user's language, like every admin page (erp/admin.py)."""

from __future__ import annotations

import json

from flask import current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectMultipleField, widgets
from wtforms.validators import DataRequired, StopValidation, ValidationError

# Imported by erp.admin.init_app once erp.admin is loaded (it builds on its base views).
from ..admin import SecureModelView, _AdminOnly
from ..db import db
from ..params import id_arg, page_arg
from . import delivery as deliveries
from .models import DELIVERED, FAILED, QUEUED, SENDING, STATUSES, WebhookDelivery, WebhookEndpoint
from .outbox import events
from .urls import check_url, new_secret


def status_label(status: str) -> str:
    labels = {QUEUED: _("Waiting"), SENDING: _("Sending"), DELIVERED: _("Delivered"),
              FAILED: _("Failed")}
    return labels.get(status, status)


def _event_label(key: str) -> str:
    found = next((item for item in events() if item.key == key), None)
    return f"{found.label} ({key})" if found is not None else key


def _url_rule(_form, field) -> None:
    try:
        field.data = check_url(field.data, allow_http_local=bool(
            current_app.config.get("ERP_WEBHOOKS_ALLOW_HTTP_LOCAL")))
    except ValueError as exc:
        raise ValidationError(str(exc.args[0])) from None


def _some_event(_form, field) -> None:
    # Not DataRequired: its "required" flag would put `required` on every checkbox.
    if not field.data:
        raise StopValidation(_("Choose at least one event."))


class _Checkboxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _secret(_view, _context, endpoint, _name):
    return Markup('<code id="webhook-secret">{}</code>').format(endpoint.secret)


def _events(_view, _context, endpoint, _name):
    return Markup("<br>").join(_event_label(key) for key in endpoint.events or ())


class EndpointAdmin(SecureModelView):
    """The endpoints: a new one gets a random secret (shown on its page, to admins)."""

    column_list = ("name", "url", "active", "events", "created_at")
    column_details_list = ("name", "url", "active", "events", "secret", "description",
                           "created_at", "updated_at")
    column_labels = {"url": _l("URL"), "events": _l("Events"), "secret": _l("Secret"),
                     "active": _l("Active")}
    column_descriptions = {
        "secret": _l("Signs every request: the receiver checks the X-Mosaic-Signature "
                     "header, sha256= and the HMAC-SHA256 of the body with this key."),
    }
    column_formatters = {"events": _events}
    column_formatters_detail = {"events": _events, "secret": _secret}
    column_sortable_list = ("name", "url", "active", "created_at")  # not the JSON list
    column_searchable_list = ("name", "url")
    column_filters = ("active",)
    form_columns = ("name", "url", "events", "active", "description")
    form_overrides = {"events": _Checkboxes}
    form_args = {
        "url": {"validators": [DataRequired(), _url_rule],
                "description": _l("https://… (the receiving system's address)")},
        "events": {"validators": [_some_event]},
    }
    form_widget_args = {"events": {"class": "list-unstyled mb-0"}}
    details_template = "admin/webhook_endpoint_details.html"

    def _with_choices(self, form):
        form.events.choices = [(item.key, f"{item.label} ({item.key})") for item in events()]
        return form

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._with_choices(super().edit_form(obj))

    def on_model_change(self, form, model, is_created):
        if is_created or not model.secret:
            model.secret = new_secret()
        model.events = sorted(set(model.events or ()))

    @expose("/new-secret/", methods=("POST",))
    def new_secret_view(self):
        """Replace an endpoint's secret (CSRF-checked like every POST): the receiver must
        be given the new one."""
        endpoint = db.session.get(WebhookEndpoint, id_arg("id", request.form) or 0)
        if endpoint is None:
            flash(_("This endpoint does not exist."), "error")
            return redirect(url_for(".index_view"))
        endpoint.secret = new_secret()
        db.session.commit()
        flash(_("New secret made: give it to the receiving system, the old one no longer "
                "signs the requests."), "success")
        return redirect(url_for(".details_view", id=endpoint.id))


class DeliveryView(_AdminOnly, BaseView):
    """The delivery log: newest first, by state and endpoint; each one's request, answer,
    attempts; "Send again"."""

    page_size = 50

    @expose("/")
    def index(self):
        state = request.args.get("state", "")
        state = state if state in STATUSES else ""
        endpoint_id = id_arg("endpoint_id")
        query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc())
        if state:
            query = query.where(WebhookDelivery.status == state)
        if endpoint_id:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        pagination = db.paginate(query, page=page_arg(), per_page=self.page_size,
                                 error_out=False)
        endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name))
        return self.render("admin/webhook_deliveries.html", pagination=pagination,
                           state=state, endpoint_id=endpoint_id,
                           states=[(status, status_label(status)) for status in STATUSES],
                           endpoints=list(endpoints), status_label=status_label,
                           event_label=_event_label,
                           can_send_again=(QUEUED, FAILED, DELIVERED))

    @expose("/view/")
    def view(self):
        found = db.session.get(WebhookDelivery, id_arg("id") or 0)
        if found is None:
            flash(_("This delivery does not exist."), "error")
            return redirect(url_for(".index"))
        body = json.dumps(json.loads(deliveries.body_of(found)), indent=2, ensure_ascii=False,
                          sort_keys=True)
        return self.render("admin/webhook_delivery.html", delivery=found, body=body,
                           status_label=status_label, event_label=_event_label,
                           can_send_again=found.status != SENDING)

    @expose("/send-again/", methods=("POST",))
    def send_again(self):
        """Queue a delivery again, due now (CSRF-checked like every POST)."""
        delivery_id = id_arg("id", request.form)
        if not delivery_id or not deliveries.send_again(delivery_id):
            flash(_("This delivery cannot be sent again: it is being sent right now, or it "
                    "does not exist."), "error")
        else:
            flash(_("The delivery is queued again: it will be sent shortly."), "success")
        back = request.form.get("next", "")
        return redirect(back if back.startswith("/admin/") and "//" not in back
                        else url_for(".index"))


def add_views(admin, category) -> None:
    admin.add_view(EndpointAdmin(WebhookEndpoint, db, name=_l("Webhooks"), category=category,
                                 endpoint="webhook_endpoint"))
    admin.add_view(DeliveryView(name=_l("Webhook deliveries"), category=category,
                                endpoint="webhook_deliveries", url="/admin/webhook-deliveries"))
