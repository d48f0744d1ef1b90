"""Sales: the catalog, quotes, orders and invoices, and their part of the account page."""

from flask_babel import lazy_gettext as _l

from erp.modules import Manifest
from erp.registry import MenuItem

manifest = Manifest(
    name="sales",
    version="1.0.0",
    summary="Quotes, orders and invoices",
    depends=("crm",),
)


def register(registry):
    # Imported here, not at the top: a module's code runs only when it is enabled.
    from . import account_page, demo, models, views
    from .permissions import PERMISSIONS, READ

    registry.permissions(*PERMISSIONS)
    registry.blueprint(views.bp)
    registry.menu_item(MenuItem("sales", _l("Sales"), "sales.index", permission=READ, order=20))
    registry.account_tab(account_page.TAB)
    registry.timeline_source(account_page.SOURCE)
    for stat in account_page.STATS:
        registry.account_stat(stat)
    for action in account_page.CREATES:
        registry.create_action(action)
    registry.search_provider(account_page.SEARCH)
    registry.demo_loader(demo.load, order=110)  # after CRM's accounts
    from erp.registry import TemplateGlobal

    from . import labels
    registry.add("template global", TemplateGlobal("sales_labels", labels))
    category = _l("Sales")
    registry.admin_view(models.Product, category=category, name=_l("Products"),
                        view_class=views.ProductAdmin)
    registry.admin_view(models.Quote, category=category, name=_l("Quotes"),
                        view_class=views.QuoteAdmin)
    registry.admin_view(models.Order, category=category, name=_l("Orders"),
                        view_class=views.OrderAdmin)
    registry.admin_view(models.Invoice, category=category, name=_l("Invoices"),
                        view_class=views.InvoiceAdmin)
    registry.admin_view(models.SalesEvent, category=category, name=_l("Sales events"),
                        view_class=views.EventAdmin)
