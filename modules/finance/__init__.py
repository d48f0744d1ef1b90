"""Finance: receivables (contas a receber) and payments.

Receivables are entered by hand or created from the invoices of sales and service,
which finance hears about through their named signals (it imports neither). Adds the
Finance tab, timeline events, header figures and Create → Receivable to the account page.
"""

from erp.i18n import module_i18n
from erp.modules import Manifest

_l = module_i18n(__name__).lazy_gettext

manifest = Manifest(
    name="finance",
    version="1.0.0",
    summary="Receivables and payments",
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

    from . import (
        account_page,
        admin,
        api,
        dashboard,
        demo,
        labels,
        models,
        reports,
        search,
        signals,
        views,
    )
    from .permissions import PERMISSIONS, READ, ROLES

    registry.add(*PERMISSIONS)
    registry.add(*ROLES)  # finance: the finance clerk
    registry.add(WebBlueprint(views.bp), WebBlueprint(reports.bp))
    registry.add(*(ApiBlueprint(blueprint) for blueprint in api.blueprints()))
    registry.add(MenuItem("finance", _l("Finance"), "finance.index", permission=READ, order=30))
    registry.add(account_page.TAB, account_page.CREATE)
    registry.add(*account_page.SOURCES)  # receivables, payments
    registry.add(*account_page.STATS)  # open, overdue
    registry.add(search.PROVIDER)
    registry.add(reports.AGING)
    registry.add(dashboard.WIDGET)
    category = _l("Finance")
    registry.add(
        AdminView(models.Receivable, category, admin.ReceivableAdmin, name=_l("Receivables")),
        AdminView(models.Payment, category, admin.PaymentAdmin, name=_l("Payments")),
    )
    # After CRM's accounts and sales' and service's invoices.
    registry.add(DemoLoader("finance", demo.load, order=120, users=demo.USERS))
    registry.add(ContractData("finance", demo.contract_data))  # for erp.testing.contract
    registry.add(TemplateGlobal("finance_labels", labels))
    # How its records follow a merge of two accounts or contacts (issue 18).
    from . import merge

    registry.add(*merge.HANDLERS)
    # Its webhook events (issue 18): emitted by the host from the audit trail.
    from . import events

    registry.add(*events.WEBHOOK_EVENTS)
    signals.connect()  # the invoices of sales and service, by name
