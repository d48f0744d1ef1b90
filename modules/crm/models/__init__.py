"""CRM models. Importing this package registers every CRM table on the shared metadata."""

from .account import LIFECYCLE_CUSTOMER, LIFECYCLE_PROSPECT, Account, Category, account_tags
from .contact import AccountContact, Contact
from .lookup_cache import CnpjLookup
from .tag import Tag

__all__ = [
    "LIFECYCLE_CUSTOMER",
    "LIFECYCLE_PROSPECT",
    "Account",
    "AccountContact",
    "Category",
    "CnpjLookup",
    "Contact",
    "Tag",
    "account_tags",
]
