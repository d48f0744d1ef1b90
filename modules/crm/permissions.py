from flask_babel import lazy_gettext as _l

from erp.registry import Permission

READ, WRITE, MANAGE = "crm.read", "crm.write", "crm.manage"

PERMISSIONS = (
    Permission(READ, _l("See accounts, contacts and opportunities"),
               roles=("sales_manager", "sales_rep", "finance", "service")),
    Permission(WRITE, _l("Create and edit accounts, contacts and opportunities"),
               roles=("sales_manager", "sales_rep")),
    Permission(MANAGE, _l("Configure stages, tags and loss reasons"), roles=("sales_manager",)),
)
