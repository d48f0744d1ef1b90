"""The CRM's answers to the global search box."""

from flask import url_for

from erp.i18n import module_i18n
from erp.registry import SearchProvider, SearchResult

from .permissions import READ
from .services.search import search_accounts, search_contacts

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


ACCOUNTS = SearchProvider("crm.accounts", _l("Accounts"), accounts, permission=READ, order=10,
                          hint=_l("name, CNPJ/CPF, phone, e-mail"))
CONTACTS = SearchProvider("crm.contacts", _l("Contacts"), contacts, permission=READ, order=20)
