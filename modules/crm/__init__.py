"""CRM: accounts, contacts, opportunities and the account page."""

from flask_babel import lazy_gettext as _l

from erp.modules import Manifest

manifest = Manifest(
    name="crm",
    version="0.2.0",
    summary="Accounts, contacts, opportunities and the account page",
    depends=(),
)


def register(registry):
    from erp.registry import MenuItem, SearchProvider

    from . import demo, models, search_providers, tabs, views
    from .permissions import PERMISSIONS, READ

    registry.permissions(*PERMISSIONS)
    registry.blueprint(views.bp)
    registry.menu_item(MenuItem("crm", _l("CRM"), "crm.accounts", permission=READ, order=10))
    registry.search_provider(SearchProvider("crm.accounts", _l("Accounts"),
                                            search_providers.accounts, permission=READ, order=10))
    registry.search_provider(SearchProvider("crm.contacts", _l("Contacts"),
                                            search_providers.contacts, permission=READ, order=20))
    category = _l("CRM")
    registry.admin_view(models.Category, category=category, name=_l("Categories"))
    registry.admin_view(models.Tag, category=category, name=_l("Tags"))
    registry.admin_view(models.CnpjLookup, category=category, name=_l("CNPJ lookups"))
    registry.admin_view(models.Opportunity, category=category, name=_l("Opportunities"))
    registry.admin_view(models.Stage, category=category, name=_l("Stages"))
    registry.admin_view(models.LossReason, category=category, name=_l("Loss reasons"))
    registry.admin_view(models.Action, category=category, name=_l("Actions"))
    registry.demo_loader(demo.load)
    from erp.registry import TemplateGlobal

    from .models import labels
    registry.add("template global", TemplateGlobal("crm_labels", labels))
    tabs.register(registry)
    from . import reports  # the actions, funnel and loss-reasons reports
    reports.register(registry)
    from . import dashboard  # the home page's widgets
    dashboard.register(registry)
    from . import api  # the JSON API's /accounts, /contacts, /opportunities, /actions
    api.register(registry)
    from . import importers  # spreadsheet import of accounts, contacts, opportunities
    importers.register(registry)
