"""Service: service orders (items and hours) and service invoices (notas de serviço)."""

from erp.i18n import module_i18n
from erp.modules import Manifest

_l = module_i18n(__name__).lazy_gettext

manifest = Manifest(
    name="service",
    version="1.0.0",
    summary="Service orders and service invoices",
    depends=("crm",),
)


def register(registry):
    # Imported here, not at the top: a module's code runs only when it is enabled.
    from erp.registry import (
        AdminView,
        ApiBlueprint,
        ContractData,
        DemoLoader,
        MenuItem,
        TemplateGlobal,
        WebBlueprint,
    )

    from . import account_page, admin, api, dashboard, demo, labels, models, search, views
    from .permissions import PERMISSIONS, READ, ROLES

    registry.add(*PERMISSIONS)
    registry.add(*ROLES)  # service: the service clerk
    registry.add(WebBlueprint(views.bp))
    registry.add(*(ApiBlueprint(blueprint) for blueprint in api.blueprints()))
    registry.add(MenuItem("service", _l("Service"), "service.index", permission=READ, order=40,
                          icon="tools"))
    registry.add(account_page.TAB, account_page.SOURCE, account_page.STAT, account_page.CREATE)
    registry.add(search.PROVIDER)
    registry.add(dashboard.WIDGET)
    category = _l("Service")
    registry.add(
        AdminView(models.ServiceOrder, category, admin.OrderAdmin, name=_l("Service orders")),
        AdminView(models.ServiceOrderItem, category, admin.OrderItemAdmin,
                  name=_l("Service order items")),
        AdminView(models.ServiceInvoice, category, admin.InvoiceAdmin,
                  name=_l("Service invoices")),
        AdminView(models.ServiceEvent, category, admin.EventAdmin, name=_l("Service events")),
    )
    # After CRM's accounts (100) and sales' history (110), before finance (120), whose demo
    # then also pays some of the receivables that our invoices created.
    registry.add(DemoLoader("service", demo.load, order=115, users=demo.USERS))
    registry.add(ContractData("service", demo.contract_data))  # for erp.testing.contract
    registry.add(TemplateGlobal("service_labels", labels))
    # How its records follow a merge of two accounts or contacts (issue 18).
    from . import merge

    registry.add(*merge.HANDLERS)
    # Its webhook events (issue 18): emitted by the host from the audit trail.
    from . import events

    registry.add(*events.WEBHOOK_EVENTS)
