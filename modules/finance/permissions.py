"""The finance module's permissions, the roles that get them by default, and its own role."""

from erp.i18n import module_i18n
from erp.registry import ALL, Permission, Role

_l = module_i18n(__name__).lazy_gettext

READ, WRITE = "finance.read", "finance.write"
FINANCE = "finance"

ROLES = (Role(FINANCE, _l("Finance clerk: invoices, receivables and payments"), scope=ALL),)

PERMISSIONS = (
    Permission(READ, _l("See receivables and payments"), roles=("finance", "sales_manager")),
    Permission(WRITE, _l("Create receivables and record payments"), roles=("finance",)),
)
