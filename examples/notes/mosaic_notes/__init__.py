"""Notes: free-text notes on an account — the complete minimal example of a module.

A third-party module, a package of its own (examples/notes: ``pip install
./examples/notes``; Mosaic ERP finds it by its ``erp.modules`` entry point), as
``docs/modules.md`` walks through every file of it. It adds a tab, a timeline source, a
stat and a Create entry to CRM's account page, through the registry only.
"""

from erp.i18n import module_i18n
from erp.modules import Manifest

_l = module_i18n(__name__).lazy_gettext

manifest = Manifest(name="notes", version="1.0.0", summary="Notes on accounts", depends=("crm",))


def register(registry):
    # Imported here, not at the top: a module's code runs only when it is enabled.
    from erp.registry import AdminView, ApiBlueprint, ContractData, Permission, WebBlueprint

    from . import account_page, admin, api, demo, models, views
    from .permissions import READ, WRITE

    registry.add(  # granted to CRM's roles (Notes depends on CRM)
        Permission(READ, _l("See the notes on accounts"), roles=("sales_manager", "sales_rep")),
        Permission(WRITE, _l("Write notes on accounts"), roles=("sales_manager", "sales_rep")),
    )
    registry.add(WebBlueprint(views.bp), ApiBlueprint(api.blp))
    registry.add(account_page.TAB, account_page.SOURCE, account_page.STAT, account_page.CREATE)
    registry.add(AdminView(models.Note, _l("Notes"), admin.NoteAdmin, name=_l("Notes")))
    # Its records on an account, for the contract tests (erp.testing.contract).
    registry.add(ContractData("notes", demo.contract_data, demo.contract_events))
    # Its notes follow a merge of two accounts (issue 18).
    from .merge import HANDLER

    registry.add(HANDLER)
