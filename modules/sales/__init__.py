"""Sales: the catalog, quotes, orders and invoices, and their part of the account page."""

from erp.i18n import module_i18n
from erp.modules import Manifest

_l = module_i18n(__name__).lazy_gettext

manifest = Manifest(
    name="sales",
    version="1.0.0",
    summary="Quotes, orders and invoices",
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

    from . import account_page, admin, api, demo, labels, models, search, views
    from .permissions import PERMISSIONS, READ

    registry.add(*PERMISSIONS)  # to CRM's sales roles, and to finance's
    registry.add(WebBlueprint(views.bp))
    registry.add(*(ApiBlueprint(blueprint) for blueprint in api.blueprints()))
    registry.add(MenuItem("sales", _l("Sales"), "sales.index", permission=READ, order=20))
    registry.add(account_page.TAB, account_page.SOURCE)
    registry.add(*account_page.STATS)  # last order, invoiced this year
    registry.add(*account_page.CREATES)  # quote, order, invoice
    registry.add(search.SEARCH)
    registry.add(DemoLoader("sales", demo.load, order=110))  # after CRM's accounts
    registry.add(ContractData("sales", demo.contract_data))  # for erp.testing.contract
    category = _l("Sales")
    registry.add(
        AdminView(models.Product, category, admin.ProductAdmin, name=_l("Products")),
        AdminView(models.Quote, category, admin.QuoteAdmin, name=_l("Quotes")),
        AdminView(models.Order, category, admin.OrderAdmin, name=_l("Orders")),
        AdminView(models.Invoice, category, admin.InvoiceAdmin, name=_l("Invoices")),
        AdminView(models.SalesEvent, category, admin.EventAdmin, name=_l("Sales events")),
    )
    registry.add(TemplateGlobal("sales_labels", labels))
    # The catalog's search for line pickers elsewhere (CRM's deal items): issue 17.
    registry.add(TemplateGlobal("sales_catalog_picker_url",
                                views.catalog.catalog_picker_url))
    # How its records follow a merge of two accounts or contacts (issue 18).
    from . import merge

    registry.add(*merge.HANDLERS)
    # Its webhook events (issue 18): emitted by the host from the audit trail.
    from . import events

    registry.add(*events.WEBHOOK_EVENTS)
