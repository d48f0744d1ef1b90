"""CRM: accounts, contacts, opportunities and the account page."""

from erp.i18n import module_i18n
from erp.modules import Manifest

_l = module_i18n(__name__).lazy_gettext

manifest = Manifest(
    name="crm",
    version="0.2.0",
    summary="Accounts, contacts, opportunities and the account page",
    depends=(),
    # What the modules built on CRM may import (tests/erp/test_import_graph.py checks it):
    # the models, the account scope (with the account picker), promoting an account to
    # customer, and the account page's kinds (tabs, stats, Create entries).
    public=("models", "services.scope", "services.accounts.promote_to_customer", "kinds"),
)


def register(registry):
    # Imported here, not at the top: a module's code runs only when it is enabled.
    from erp.registry import (
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
        factories,
        importers,
        labels,
        models,  # noqa: F401 (its tables, even when nothing else needs them)
        reports,
        search,
        timeline_sources,
        views,
    )
    from .kinds import AccountStat, AccountTab, CreateAction
    from .permissions import PERMISSIONS, READ, ROLES
    from .reports.views import bp as reports_bp

    # The account page's kinds: CRM owns them, the modules built on it add to them.
    registry.declare(AccountTab, AccountStat, CreateAction)
    registry.add(*PERMISSIONS)
    registry.add(*ROLES)  # sales_manager, sales_rep: the pipeline's people
    registry.add(WebBlueprint(views.bp), WebBlueprint(reports_bp))
    registry.add(MenuItem("crm", _l("CRM"), "crm.accounts", permission=READ, order=10))
    registry.add(search.ACCOUNTS, search.CONTACTS)
    # The account page: CRM's own tabs, header figures, Create entries and timeline.
    registry.add(*account_page.TABS)  # timeline, opportunities, contacts, history
    registry.add(*account_page.STATS)  # open value, last contact
    registry.add(*account_page.CREATE_ACTIONS)  # opportunity, action, e-mail, contact
    # The timeline's sources: actions, the pipeline's history, the account's own events.
    registry.add(timeline_sources.ACTIONS, timeline_sources.PIPELINE,
                 timeline_sources.ACCOUNT_EVENTS)
    registry.add(reports.ACTIONS, reports.FUNNEL, reports.LOSSES)
    registry.add(*dashboard.WIDGETS)  # my agenda, my open opportunities by stage
    # The JSON API: /accounts, /contacts, /opportunities, /actions and the lookup lists.
    registry.add(*(ApiBlueprint(blueprint) for blueprint in api.blueprints()))
    registry.add(*importers.IMPORTERS)  # accounts, contacts, opportunities
    registry.add(*admin.VIEWS)  # categories, tags, CNPJ lookups, opportunities, stages...
    registry.add(DemoLoader("crm", demo.load, users=demo.USERS))
    # Its records on an account for the contract tests (erp.testing.contract), the bulk of
    # actions for their timeline, and the accounts a user may see: the account page's.
    registry.add(ContractData("crm", demo.contract_data, demo.contract_events,
                              demo.contract_accounts))
    registry.add(TemplateGlobal("crm_labels", labels))
    # "Register a new account" keeping what was typed and where from (issue 17).
    registry.add(TemplateGlobal("crm_new_account_url", views.accounts.new_account_url))
    registry.add(*factories.FACTORIES)  # accounts and contacts for tests (erp.testing)
    # How its records follow a merge of two accounts or contacts (issue 18).
    from . import merge

    registry.add(*merge.HANDLERS)
    # Its webhook events and its part of each user's calendar feed (issue 18).
    from . import calendar, events

    registry.add(*events.WEBHOOK_EVENTS)
    registry.add(calendar.AGENDA)
