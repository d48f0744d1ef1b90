"""Finance: receivables (contas a receber) and payments.

Receivables are entered by hand or created from the invoices of sales and service,
which finance hears about through their named signals (it imports neither). Adds the
Finance tab, timeline events, header figures and Create → Receivable to the account page.
"""

from flask_babel import lazy_gettext as _l

from erp.modules import Manifest

manifest = Manifest(
    name="finance",
    version="1.0.0",
    summary="Receivables and payments",
    depends=("crm",),
)


def register(registry):
    # Imported here, not at the top: a module's code runs only when it is enabled.
    from erp.registry import MenuItem

    from . import account_page, demo, models, search, signals, views
    from .permissions import PERMISSIONS, READ

    registry.permissions(*PERMISSIONS)
    registry.blueprint(views.bp)
    registry.menu_item(
        MenuItem("finance", _l("Finance"), "finance.index", permission=READ, order=30))
    registry.account_tab(account_page.TAB)
    for source in account_page.SOURCES:
        registry.timeline_source(source)
    for stat in account_page.STATS:
        registry.account_stat(stat)
    registry.create_action(account_page.CREATE)
    registry.admin_view(models.Receivable, category=_l("Finance"), name=_l("Receivables"),
                        view_class=views.ReceivableAdmin)
    registry.admin_view(models.Payment, category=_l("Finance"), name=_l("Payments"),
                        view_class=views.PaymentAdmin)
    registry.search_provider(search.PROVIDER)
    registry.demo_loader(demo.load, order=120)  # after CRM's accounts and sales' invoices
    signals.connect()
    from erp.registry import TemplateGlobal

    from . import labels
    registry.add("template global", TemplateGlobal("finance_labels", labels))
    from . import reports  # the receivables aging report
    reports.register(registry)
    from . import dashboard  # the home page's widget
    registry.dashboard_widget(dashboard.WIDGET)
