"""The finance module's permissions, the roles that get them by default, and its own role."""

from flask_babel import lazy_gettext as _l

from erp.registry import ALL, Permission, Role

READ, WRITE = "finance.read", "finance.write"
FINANCE = "finance"

ROLES = (Role(FINANCE, _l("Finance clerk: invoices, receivables and payments"), scope=ALL),)

PERMISSIONS = (
    Permission(READ, _l("See receivables and payments"), roles=("finance", "sales_manager")),
    Permission(WRITE, _l("Create receivables and record payments"), roles=("finance",)),
)
