"""The finance module's permissions, and the seeded roles that get them by default."""

from flask_babel import lazy_gettext as _l

from erp.registry import Permission

READ, WRITE = "finance.read", "finance.write"

PERMISSIONS = (
    Permission(READ, _l("See receivables and payments"), roles=("finance", "sales_manager")),
    Permission(WRITE, _l("Create receivables and record payments"), roles=("finance",)),
)
