"""Service: service orders (items and hours) and service invoices (notas de serviço)."""

from flask_babel import lazy_gettext as _l

from erp.modules import Manifest

manifest = Manifest(
    name="service",
    version="1.0.0",
    summary="Service orders and service invoices",
    depends=("crm",),
)


def register(registry):
    # Imported here, not at the top: a module's code runs only when it is enabled.
    from erp.registry import MenuItem

    from . import account_page, demo, models, search, views
    from .permissions import PERMISSIONS, READ

    registry.permissions(*PERMISSIONS)
    registry.blueprint(views.bp)
    registry.menu_item(
        MenuItem("service", _l("Service"), "service.index", permission=READ, order=40,
                 icon="tools"))
    registry.account_tab(account_page.TAB)
    registry.timeline_source(account_page.SOURCE)
    registry.account_stat(account_page.STAT)
    registry.create_action(account_page.CREATE)
    registry.search_provider(search.PROVIDER)
    # After CRM's accounts (100) and sales' history (110), before finance (120), whose demo
    # then also pays some of the receivables that our invoices created.
    registry.demo_loader(demo.load, order=115)
    from erp.registry import TemplateGlobal

    from . import labels
    registry.add("template global", TemplateGlobal("service_labels", labels))
    category = _l("Service")
    registry.admin_view(models.ServiceOrder, category=category, name=_l("Service orders"),
                        view_class=views.OrderAdmin)
    registry.admin_view(models.ServiceOrderItem, category=category,
                        name=_l("Service order items"), view_class=views.OrderItemAdmin)
    registry.admin_view(models.ServiceInvoice, category=category, name=_l("Service invoices"),
                        view_class=views.InvoiceAdmin)
    registry.admin_view(models.ServiceEvent, category=category, name=_l("Service events"),
                        view_class=views.EventAdmin)
    from . import dashboard  # the home page's widget
    registry.dashboard_widget(dashboard.WIDGET)
