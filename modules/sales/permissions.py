from flask_babel import lazy_gettext as _l

from erp.registry import Permission

READ, WRITE = "sales.read", "sales.write"

PERMISSIONS = (
    Permission(READ, _l("See quotes, orders and invoices"),
               roles=("sales_manager", "sales_rep", "finance")),
    Permission(WRITE, _l("Create and edit quotes, orders and invoices"),
               roles=("sales_manager", "sales_rep", "finance")),
)
