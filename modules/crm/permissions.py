from erp.i18n import module_i18n
from erp.registry import OWN, TEAM, Permission, Role

_l = module_i18n(__name__).lazy_gettext

READ, WRITE, MANAGE = "crm.read", "crm.write", "crm.manage"
SALES_MANAGER, SALES_REP = "sales_manager", "sales_rep"

# The pipeline's people: CRM brings their roles. What a role may do is said by the
# permissions that name it, this module's and others' (sales grants them its own).
ROLES = (
    Role(SALES_MANAGER, _l("Sales manager: configures the pipeline, sees the team"),
         scope=TEAM),
    Role(SALES_REP, _l("Sales rep: works their own accounts and opportunities"), scope=OWN),
)

PERMISSIONS = (
    Permission(READ, _l("See accounts, contacts and opportunities"),
               roles=("sales_manager", "sales_rep", "finance", "service")),
    Permission(WRITE, _l("Create and edit accounts, contacts and opportunities"),
               roles=("sales_manager", "sales_rep")),
    Permission(MANAGE, _l("Configure stages, tags and loss reasons"), roles=("sales_manager",)),
)
