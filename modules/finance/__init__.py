"""Finance: Receivables and payments."""

from flask_babel import lazy_gettext as _l

from erp.modules import Manifest
from erp.registry import MenuItem

manifest = Manifest(
    name="finance",
    version="0.1.0",
    summary="Receivables and payments",
    depends=("crm",),
)


def register(registry):
    from . import views
    from .permissions import PERMISSIONS, READ

    registry.permissions(*PERMISSIONS)
    registry.blueprint(views.bp)
    registry.menu_item(
        MenuItem("finance", _l("Finance"), "finance.index", permission=READ, order=30)
    )
