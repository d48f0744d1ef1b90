"""CRM's tables in Administration (the host's SecureModelView: admins only, CSRF, labels
and values in the user's language). The audited models (opportunities) name their columns
through their audit labels; the views below name what those do not, in CRM's catalog."""

from wtforms.validators import ValidationError

from erp.admin import SecureModelView
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.registry import AdminView

from . import models
from .labels import ACTION_KIND_LABELS
from .services import service_types

_l = module_i18n(__name__).lazy_gettext

CATEGORY = _l("CRM")


class CnpjLookupAdmin(SecureModelView):
    column_labels = {"cnpj": _l("CNPJ"), "provider": _l("Provider"),
                     "payload": _l("Response"), "fetched_at": _l("Fetched")}


class OpportunityAdmin(SecureModelView):
    column_labels = {"items": _l("Items"), "furthest_stage_id": _l("Furthest stage"),
                     "cycle_days": _l("Days to close"), "lost_stage_id": _l("Stage where lost")}


class StageAdmin(SecureModelView):
    column_labels = {"sequence": _l("Order")}


class LossReasonAdmin(SecureModelView):
    column_labels = {"archived": _l("Archived")}


class TagAdmin(SecureModelView):
    column_labels = {"color": _l("Colour")}


class ActionAdmin(SecureModelView):
    column_labels = {"kind": _l("Kind"), "at": _l("When"), "contact": _l("Contact"),
                     "opportunity": _l("Opportunity"), "done": _l("Done"),
                     "archived": _l("Archived"), "email_to": _l("E-mail to"),
                     "email_subject": _l("E-mail subject")}
    column_choices = {"kind": ACTION_KIND_LABELS}


class ServiceTypeAdmin(SecureModelView):
    """The company's kinds of attendance (seed 002, "Tipo de atendimento"; issue 17):
    named as the company writes them, in its order, one of them the default a new
    opportunity suggests. One in use is deactivated, not deleted."""

    column_list = ("name", "active", "is_default", "position")
    column_default_sort = [("position", False), ("name", False)]
    column_searchable_list = ("name",)
    form_columns = ("name", "position", "active", "is_default")
    column_labels = {"name": _l("Name"), "active": _l("Active"),
                     "is_default": _l("Default for new opportunities"),
                     "position": _l("Order")}
    column_descriptions = {
        "active": _l("Inactive types stay on the opportunities that have them but are not "
                     "offered for new ones."),
        "is_default": _l("Suggested on a new opportunity; choosing it here takes it from "
                         "the one that had it.")}

    def on_model_change(self, form, model, is_created):
        try:
            service_types.check(model)
        except InvalidInput as error:
            raise ValidationError(" ".join(
                str(message) for messages in error.errors.values() for message in messages)
            ) from error

    def on_model_delete(self, model):
        if service_types.in_use(model):
            raise ValidationError(_l(
                "“%(name)s” is the service type of opportunities: deactivate it instead "
                "of deleting it.", name=model.name))


VIEWS = (
    AdminView(models.Category, CATEGORY, name=_l("Categories")),
    AdminView(models.Tag, CATEGORY, TagAdmin, name=_l("Tags")),
    AdminView(models.CnpjLookup, CATEGORY, CnpjLookupAdmin, name=_l("CNPJ lookups")),
    AdminView(models.Opportunity, CATEGORY, OpportunityAdmin, name=_l("Opportunities")),
    AdminView(models.Stage, CATEGORY, StageAdmin, name=_l("Stages")),
    AdminView(models.LossReason, CATEGORY, LossReasonAdmin, name=_l("Loss reasons")),
    AdminView(models.ServiceType, CATEGORY, ServiceTypeAdmin, name=_l("Service types")),
    AdminView(models.Action, CATEGORY, ActionAdmin, name=_l("Actions")),
)
