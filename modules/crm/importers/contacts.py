"""The contacts importer: matched by e-mail among those the user sees; the account column
(CNPJ/CPF or name) links each to an account, in the role given."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from erp.db import db
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.imports import RowError, RowPlan

from ..models import (
    AccountContact,
    Contact,
)
from ..services.contacts import clean_contact, clean_role
from ..services.scope import contact_scope
from .common import (
    AccountRefs,
    _email_key,
    _field,
    _key,
    _message,
    _text,
)

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

CONTACT_FIELDS = (
    _field("name", _l("Name"), "nome", "contato", "contact", "nome do contato", "contact name",
           "pessoa", required=True),
    _field("position", _l("Position"), "cargo", "funcao", "job title", "title"),
    _field("email", _l("E-mail"), "e mail", "email", "mail"),
    _field("phone", _l("Phone"), "telefone", "fone", "tel", "telephone", "telefone comercial",
           "telefone 1", "fone 1", "fone comercial"),
    _field("mobile", _l("Mobile"), "celular", "cel", "whatsapp", "cell phone",
           "celular whatsapp", "whatsapp celular", "telefone celular", "fone celular"),
    _field("account", _l("Account"), "conta", "empresa", "company", "cliente", "customer",
           "cnpj", "cnpj cpf", "cnpj da empresa", "razao social",
           help=_l("CNPJ/CPF or name of an account you see")),
    _field("role", _l("Role at this account"), "papel", "role", "departamento", "area",
           "setor"),
    _field("notes", _l("Notes"), "observacoes", "obs", "notas"),
)
CONTACT_LABELS = {f.name: f.label for f in CONTACT_FIELDS}


@dataclass
class ContactBatch:
    accounts: AccountRefs
    by_email: dict[str, list[Contact]]
    links: dict[tuple[int, int], AccountContact]


def prepare_contacts(rows: list[dict], user) -> ContactBatch:
    session = db.session
    accounts = AccountRefs.load({_text(r, "account") for r in rows} - {""}, user)
    emails = {e for e in (_email_key(_text(r, "email")) for r in rows) if e}
    by_email: dict[str, list[Contact]] = defaultdict(list)
    if emails:
        for contact in session.scalars(select(Contact).where(
                Contact.email.in_(emails), contact_scope(user)).order_by(Contact.id)):
            by_email[contact.email].append(contact)
    contact_ids = {c.id for found in by_email.values() for c in found}
    links = {}
    if contact_ids:
        links = {(link.account_id, link.contact_id): link for link in session.scalars(
            select(AccountContact).where(AccountContact.contact_id.in_(contact_ids)))}
    return ContactBatch(accounts, by_email, links)


def validate_contact(values: dict, user, batch: ContactBatch) -> RowPlan:
    data = {name: _text(values, name) for name in ("name", "position", "email", "phone",
                                                   "mobile", "notes") if _text(values, name)}
    account = (batch.accounts.find(_text(values, "account"), CONTACT_LABELS["account"])
               if _text(values, "account") else None)
    email = _email_key(data.get("email", ""))
    matches = batch.by_email.get(email, []) if email else []
    if len(matches) > 1:
        raise RowError(_("%(field)s: %(n)d contacts have this e-mail.",
                         field=CONTACT_LABELS["email"], n=len(matches)))
    contact = matches[0] if matches else None
    try:
        cleaned = clean_contact(data, partial=contact is not None)
        role = clean_role(_text(values, "role")) if "role" in values else None
    except InvalidInput as error:
        raise RowError(_message(error, CONTACT_LABELS)) from None
    link = batch.links.get((account.id, contact.id)) if account and contact else None
    payload = (contact, cleaned, account, role, link)
    if contact is not None:
        return RowPlan("update", payload, (("contact", str(contact.id)),),
                       note=_("Updates %(name)s.", name=contact.name))
    keys = ((("email", cleaned["email"]),) if cleaned.get("email") else ()) + (
        (("name", f"{account.id}:{_key(cleaned['name'])}"),) if account else ())
    return RowPlan("create", payload, keys)


def write_contacts(payloads: list, user) -> None:
    session = db.session
    for contact, values, account, role, link in payloads:
        if contact is None:
            contact = Contact(owner_id=user.id, **values)
            session.add(contact)
        else:
            for name, value in values.items():
                setattr(contact, name, value)
        if account is None:
            continue
        if link is None:
            session.add(AccountContact(account_id=account.id, contact=contact, role=role))
        elif role:
            link.role = role
