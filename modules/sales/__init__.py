"""Sales: Quotes, orders and invoices."""

from flask_babel import lazy_gettext as _l

from erp.modules import Manifest
from erp.registry import MenuItem

manifest = Manifest(
    name="sales",
    version="0.1.0",
    summary="Quotes, orders and invoices",
    depends=("crm",),
)


def register(registry):
    from . import views
    from .permissions import PERMISSIONS, READ

    registry.permissions(*PERMISSIONS)
    registry.blueprint(views.bp)
    registry.menu_item(MenuItem("sales", _l("Sales"), "sales.index", permission=READ, order=20))
