from erp.i18n import module_i18n
from erp.registry import Permission

_l = module_i18n(__name__).lazy_gettext

READ, WRITE = "sales.read", "sales.write"
# The product catalog is shared by every rep: changing a price or a description changes
# every later quote, so it is a manager's decision, not part of writing one's own quotes.
CATALOG_WRITE = "sales.catalog.write"

PERMISSIONS = (
    Permission(READ, _l("See quotes, orders and invoices"),
               roles=("sales_manager", "sales_rep", "finance")),
    Permission(WRITE, _l("Create and edit quotes, orders and invoices"),
               roles=("sales_manager", "sales_rep", "finance")),
    Permission(CATALOG_WRITE, _l("Add and change the products and services of the catalog"),
               roles=("sales_manager",)),
)
