"""CRM: Accounts, contacts, opportunities and the account page."""

from flask_babel import lazy_gettext as _l

from erp.modules import Manifest
from erp.registry import MenuItem

manifest = Manifest(
    name="crm",
    version="0.1.0",
    summary="Accounts, contacts, opportunities and the account page",
    depends=(),
)


def register(registry):
    from . import views
    from .permissions import PERMISSIONS, READ

    registry.permissions(*PERMISSIONS)
    registry.blueprint(views.bp)
    registry.menu_item(MenuItem("crm", _l("CRM"), "crm.index", permission=READ, order=10))
