"""The CRM's answers to the global search box."""

from flask import url_for

from erp.i18n import module_i18n
from erp.registry import SearchProvider, SearchResult

from .permissions import READ, WRITE
from .services.search import new_account_args, search_accounts, search_contacts

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext


def accounts(query: str, user, limit: int) -> list[SearchResult]:
    return [
        SearchResult(
            title=account.display_name,
            url=url_for("crm.account", account_id=account.id),
            subtitle=" · ".join(filter(None, [
                account.legal_name if account.trade_name else None,
                account.tax_id_formatted, account.city,
                _("Customer") if account.is_customer else _("Prospect"),
            ])),
            kind="account",
        )
        for account in search_accounts(query, user, limit)
    ]


def contacts(query: str, user, limit: int) -> list[SearchResult]:
    return [
        SearchResult(
            title=contact.name,
            url=url_for("crm.contact", contact_id=contact.id),
            subtitle=" · ".join(filter(None, [
                contact.position, contact.email,
                contact.mobile_formatted or contact.phone_formatted,
            ])),
            kind="contact",
        )
        for contact in search_contacts(query, user, limit)
    ]


def register_offer(query: str, user):
    """Nothing found: "Register … as a new account", prefilled (a CPF/CNPJ, a phone or a
    name: services/search.py new_account_args), for who may write accounts."""
    if not user.has_permission(WRITE):
        return None
    return (_("Register “%(query)s” as a new account", query=query),
            url_for("crm.new_account", **new_account_args(query)))


ACCOUNTS = SearchProvider("crm.accounts", _l("Accounts"), accounts, permission=READ, order=10,
                          hint=_l("name, CNPJ/CPF, phone, e-mail"), offer=register_offer)
CONTACTS = SearchProvider("crm.contacts", _l("Contacts"), contacts, permission=READ, order=20)
