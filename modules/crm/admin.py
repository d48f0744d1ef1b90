"""CRM's tables in Administration (the host's SecureModelView: admins only, CSRF, labels
and values in the user's language). The audited models (opportunities) name their columns
through their audit labels; the views below name what those do not, in CRM's catalog."""

from erp.admin import SecureModelView
from erp.i18n import module_i18n
from erp.registry import AdminView

from . import models
from .labels import ACTION_KIND_LABELS

_l = module_i18n(__name__).lazy_gettext

CATEGORY = _l("CRM")


class CnpjLookupAdmin(SecureModelView):
    column_labels = {"cnpj": _l("CNPJ"), "provider": _l("Provider"),
                     "payload": _l("Response"), "fetched_at": _l("Fetched")}


class OpportunityAdmin(SecureModelView):
    column_labels = {"items": _l("Items"), "furthest_stage_id": _l("Furthest stage"),
                     "cycle_days": _l("Days to close")}


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


VIEWS = (
    AdminView(models.Category, CATEGORY, name=_l("Categories")),
    AdminView(models.Tag, CATEGORY, TagAdmin, name=_l("Tags")),
    AdminView(models.CnpjLookup, CATEGORY, CnpjLookupAdmin, name=_l("CNPJ lookups")),
    AdminView(models.Opportunity, CATEGORY, OpportunityAdmin, name=_l("Opportunities")),
    AdminView(models.Stage, CATEGORY, StageAdmin, name=_l("Stages")),
    AdminView(models.LossReason, CATEGORY, LossReasonAdmin, name=_l("Loss reasons")),
    AdminView(models.Action, CATEGORY, ActionAdmin, name=_l("Actions")),
)
