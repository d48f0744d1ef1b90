from erp.i18n import module_i18n
from erp.registry import ALL, Permission, Role

_l = module_i18n(__name__).lazy_gettext

READ, WRITE = "service.read", "service.write"
SERVICE = "service"

ROLES = (Role(SERVICE, _l("Service clerk: service orders"), scope=ALL),)

PERMISSIONS = (
    Permission(READ, _l("See service orders and service invoices"),
               roles=("service", "sales_manager", "finance")),
    Permission(WRITE, _l("Create and edit service orders and service invoices"),
               roles=("service",)),
)
