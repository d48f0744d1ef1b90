from flask_babel import lazy_gettext as _l

from erp.registry import Permission

READ, WRITE = "service.read", "service.write"

PERMISSIONS = (
    Permission(READ, _l("See service orders and service invoices"),
               roles=("service", "sales_manager", "finance")),
    Permission(WRITE, _l("Create and edit service orders and service invoices"),
               roles=("service",)),
)
