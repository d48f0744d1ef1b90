"""CRM's tables in Administration (the host's SecureModelView: admins only, CSRF). CRM needs
no view class of its own."""

from erp.i18n import module_i18n
from erp.registry import AdminView

from . import models

_l = module_i18n(__name__).lazy_gettext

CATEGORY = _l("CRM")

VIEWS = (
    AdminView(models.Category, CATEGORY, name=_l("Categories")),
    AdminView(models.Tag, CATEGORY, name=_l("Tags")),
    AdminView(models.CnpjLookup, CATEGORY, name=_l("CNPJ lookups")),
    AdminView(models.Opportunity, CATEGORY, name=_l("Opportunities")),
    AdminView(models.Stage, CATEGORY, name=_l("Stages")),
    AdminView(models.LossReason, CATEGORY, name=_l("Loss reasons")),
    AdminView(models.Action, CATEGORY, name=_l("Actions")),
)
