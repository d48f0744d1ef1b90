"""Notes: free-text notes on an account — the complete minimal example of a module.

A third-party module, loaded by the test suite from ``tests/example_modules`` (see
``docs/modules.md``, which walks through every file of it). It adds a tab, a timeline
source, a stat and a Create entry to CRM's account page, through the registry only.
"""

from flask_babel import lazy_gettext as _l

from erp.modules import Manifest

manifest = Manifest(name="notes", version="1.0.0", summary="Notes on accounts", depends=("crm",))


def register(registry):
    # Imported here, not at the top: a module's code runs only when it is enabled.
    from erp.registry import Permission

    from . import account_page, api, models, views
    from .permissions import READ, WRITE

    registry.permissions(
        Permission(READ, _l("See the notes on accounts"), roles=("sales_manager", "sales_rep")),
        Permission(WRITE, _l("Write notes on accounts"), roles=("sales_manager", "sales_rep")),
    )
    registry.blueprint(views.bp)
    registry.api_blueprint(api.blp)
    registry.account_tab(account_page.TAB)
    registry.timeline_source(account_page.SOURCE)
    registry.account_stat(account_page.STAT)
    registry.create_action(account_page.CREATE)
    registry.admin_view(models.Note, category=_l("Notes"), name=_l("Notes"),
                        view_class=views.NoteAdmin)
