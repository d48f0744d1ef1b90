from flask_babel import lazy_gettext as _l

from erp.registry import ALL, Permission, Role

READ, WRITE = "service.read", "service.write"
SERVICE = "service"

ROLES = (Role(SERVICE, _l("Service clerk: service orders"), scope=ALL),)

PERMISSIONS = (
    Permission(READ, _l("See service orders and service invoices"),
               roles=("service", "sales_manager", "finance")),
    Permission(WRITE, _l("Create and edit service orders and service invoices"),
               roles=("service",)),
)
