"""Service: Service orders and service invoices."""

from flask_babel import lazy_gettext as _l

from erp.modules import Manifest
from erp.registry import MenuItem

manifest = Manifest(
    name="service",
    version="0.1.0",
    summary="Service orders and service invoices",
    depends=("crm",),
)


def register(registry):
    from . import views
    from .permissions import PERMISSIONS, READ

    registry.permissions(*PERMISSIONS)
    registry.blueprint(views.bp)
    registry.menu_item(
        MenuItem("service", _l("Service"), "service.index", permission=READ, order=40)
    )
