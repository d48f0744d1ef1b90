"""Spreadsheet import of accounts, contacts and opportunities (the host runs it: erp/imports).

Each row goes through the services' own cleaning (``clean_account``, ``clean_contact``,
``clean_opportunity``): the import accepts and refuses exactly what the forms do. What the
rows refer to (existing accounts by CNPJ/CPF or e-mail, accounts by name, users, stages,
categories, tags) is fetched once per batch in ``prepare``, not once per row.

* Accounts are matched by CNPJ/CPF, then by e-mail, and updated (blank cells keep the
  current value) instead of duplicated; a record someone else owns is refused, as in the
  form. Accounts that only look alike (same CNPJ root, phone or e-mail with another
  CNPJ/CPF) are created, with a note in the preview.
* Contacts are matched by e-mail among those the user sees; the account column (CNPJ/CPF
  or name) links them to an account, in the role given.
* Opportunities are always new; the value becomes one item (the value is the sum of the
  items, seed 002).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from erp.auth.models import User
from erp.db import db
from erp.errors import InvalidInput
from erp.formats import parse_date
from erp.imports import Importer, ImportField, RowError, RowPlan, cell_text
from erp.imports.reading import normalize_header

from .forms.opportunities import MEDIUM_LABELS
from .models import (
    CONTACT_MEDIA,
    LIFECYCLE_CUSTOMER,
    LIFECYCLE_PROSPECT,
    Account,
    AccountContact,
    Category,
    Contact,
    Stage,
    Tag,
)
from .permissions import WRITE
from .services import validation as v
from .services.accounts import clean_account
from .services.contacts import clean_contact, clean_role
from .services.opportunities import clean_opportunity, new_opportunity, record_created
from .services.scope import account_scope, contact_scope

YES = {"1", "x", "s", "sim", "y", "yes", "true", "verdadeiro", "v"}
NO = {"", "0", "n", "nao", "no", "false", "falso", "f"}


def _field(name: str, label, *aliases: str, required: bool = False, help=""):
    return ImportField(name, label, required, aliases, help)


def _text(values: dict, name: str) -> str:
    return cell_text(values.get(name))


def _key(text: str) -> str:
    """How names are compared: no case, accents or punctuation."""
    return normalize_header(text)


def _flag(values: dict, name: str, label) -> bool | None:
    if name not in values:
        return None
    text = _key(_text(values, name))
    if text in YES:
        return True
    if text in NO:
        return False
    raise RowError(_("%(field)s: use yes or no (sim/não).", field=label))


def _message(error: InvalidInput, labels: dict[str, Any]) -> str:
    """A service's per-field errors as one line: "CNPJ/CPF: Invalid CNPJ...; E-mail: ..."."""
    parts = []
    for name, messages in error.errors.items():
        label = labels.get(name) or labels.get(name.split("-")[0]) or name
        parts.append(f"{label}: " + " ".join(str(m) for m in messages))
    return " ".join(parts) or _("This record looks like an existing one.")


def _users_by_login(logins: set[str]) -> dict[str, User]:
    lowered = {login.strip().lower() for login in logins if login.strip()}
    if not lowered:
        return {}
    found: dict[str, User] = {}
    for user in db.session.scalars(select(User).where(
            or_(func.lower(User.email).in_(lowered), func.lower(User.username).in_(lowered)))):
        found[user.email.lower()] = found[user.username.lower()] = user
    return found


def _user_id(values: dict, name: str, users: dict[str, User], label) -> int | None:
    login = _text(values, name).lower()
    if not login:
        return None
    user = users.get(login)
    if user is None or not user.is_active:
        raise RowError(_("%(field)s: no active user with the login or e-mail %(login)s.",
                         field=label, login=login))
    return user.id


def _date(values: dict, name: str, label):
    try:
        return parse_date(values[name])
    except (TypeError, ValueError):
        raise RowError(_("%(field)s: use a date such as 31/12/2026.", field=label)) from None


# --- accounts referred to by contacts and opportunities ----------------------------------


def _as_tax_id(text: str) -> str | None:
    number = v.normalize_tax_id(text)
    return number if v.guess_person_type(number) else None


@dataclass
class AccountRefs:
    """Accounts the user sees, by normalized CNPJ/CPF and by name (legal or trade)."""

    by_tax_id: dict[str, Account] = field(default_factory=dict)
    by_name: dict[str, list[Account]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls, refs: set[str], user) -> AccountRefs:
        found = cls()
        tax_ids = {t for t in (_as_tax_id(r) for r in refs) if t}
        if tax_ids:
            for account in db.session.scalars(select(Account).where(
                    Account.tax_id.in_(tax_ids), account_scope(user))):
                found.by_tax_id[account.tax_id] = account
        names = {r for r in refs if r}
        if names:
            lowered = {n.lower() for n in names}
            statement = select(Account).where(account_scope(user), or_(
                Account.legal_name.in_(names), Account.trade_name.in_(names),
                func.lower(Account.legal_name).in_(lowered),
                func.lower(Account.trade_name).in_(lowered)))
            wanted = {_key(n) for n in names}
            for account in db.session.scalars(statement):
                for name in {account.legal_name, account.trade_name} - {None}:
                    if _key(name) in wanted and account not in found.by_name[_key(name)]:
                        found.by_name[_key(name)].append(account)
        return found

    def find(self, ref: str, label) -> Account:
        tax_id = _as_tax_id(ref)
        if tax_id and tax_id in self.by_tax_id:
            return self.by_tax_id[tax_id]
        matches = self.by_name.get(_key(ref), [])
        active = [a for a in matches if not a.archived]
        if len(active) == 1 or len(matches) == 1:
            return (active or matches)[0]
        if matches:
            raise RowError(_("%(field)s: %(n)d accounts are named %(name)s; use the CNPJ/CPF.",
                             field=label, n=len(matches), name=ref))
        raise RowError(_("%(field)s: no account %(ref)s among those you can see.",
                         field=label, ref=ref))


# --- accounts ------------------------------------------------------------------------------

ACCOUNT_FIELDS = (
    _field("legal_name", _l("Legal name"), "razao social", "nome", "name", "company",
           "company name", "empresa", "nome da empresa", "conta", "account", "cliente",
           required=True),
    _field("trade_name", _l("Trade name (nome fantasia)"), "trade name", "nome fantasia",
           "fantasia"),
    _field("short_name", _l("Short name"), "nome curto", "apelido", "abreviacao"),
    _field("tax_id", _l("CNPJ / CPF"), "cnpj", "cpf", "cnpj cpf", "cpf cnpj", "tax id",
           "documento", "document", "cnpj ou cpf", "cpf ou cnpj"),
    _field("person_type", _l("Type"), "tipo", "tipo de pessoa", "pessoa", "person type",
           "pf pj", "pj pf", help=_l("PJ (company) or PF (person); guessed from the CNPJ/CPF")),
    _field("state_registration", _l("State registration (IE)"), "ie", "inscricao estadual",
           "insc estadual", "state registration"),
    _field("lifecycle", _l("Lifecycle"), "ciclo de vida", "situacao", "status",
           help=_l("prospect or customer (cliente)")),
    _field("email", _l("E-mail"), "e mail", "email", "mail", "correio eletronico"),
    _field("phone", _l("Phone"), "telefone", "fone", "tel", "telephone", "phone number"),
    _field("mobile", _l("Mobile"), "celular", "cel", "whatsapp", "cell phone", "mobile phone"),
    _field("website", _l("Website"), "site", "web", "url", "pagina", "homepage"),
    _field("cep", _l("CEP"), "zip", "zip code", "postal code", "codigo postal"),
    _field("street", _l("Street"), "endereco", "logradouro", "rua", "address"),
    _field("number", _l("Number"), "numero", "no", "n", "num"),
    _field("complement", _l("Complement"), "complemento"),
    _field("district", _l("District"), "bairro", "neighborhood", "neighbourhood"),
    _field("city", _l("City"), "cidade", "municipio", "town"),
    _field("state", _l("State"), "uf", "estado"),
    _field("category", _l("Category"), "categoria", "segmento", "category",
           help=_l("the name of an existing category")),
    _field("owner", _l("Owner"), "responsavel", "vendedor", "dono", "owner",
           help=_l("login or e-mail of a user; default: you")),
    _field("tags", _l("Tags"), "marcadores", "etiquetas", "tags",
           help=_l("names of existing tags, separated by commas")),
    _field("priority", _l("Priority"), "prioridade", "prioritaria", help=_l("yes or no")),
    _field("opened_on", _l("Opened on"), "data de abertura", "abertura", "fundacao",
           help=_l("a date such as 31/12/2026")),
    _field("main_activity", _l("Main activity"), "atividade", "atividade principal", "cnae"),
    _field("notes", _l("Notes"), "observacoes", "obs", "notas", "anotacoes", "comments"),
)
ACCOUNT_TEXT = ("legal_name", "trade_name", "short_name", "tax_id", "state_registration",
                "email", "phone", "mobile", "website", "cep", "street", "number", "complement",
                "district", "city", "state", "main_activity", "notes")
PERSON_TYPES = {"pj": "PJ", "juridica": "PJ", "pessoa juridica": "PJ", "empresa": "PJ",
                "company": "PJ", "pf": "PF", "fisica": "PF", "pessoa fisica": "PF",
                "pessoa": "PF", "person": "PF", "individual": "PF"}
LIFECYCLES = {"prospect": LIFECYCLE_PROSPECT, "prospecto": LIFECYCLE_PROSPECT,
              "prospeccao": LIFECYCLE_PROSPECT, "lead": LIFECYCLE_PROSPECT,
              "customer": LIFECYCLE_CUSTOMER, "cliente": LIFECYCLE_CUSTOMER,
              "client": LIFECYCLE_CUSTOMER}
ACCOUNT_LABELS = {f.name: f.label for f in ACCOUNT_FIELDS} | {
    "owner_id": _l("Owner"), "category_id": _l("Category"), "tag_ids": _l("Tags")}


def _email_key(text: str) -> str | None:
    """The stored form of an address for looking it up: ``normalize_email`` lower-cases the
    domain. Cheaper than validating it (done once, by the service): 100,000 rows."""
    local, at, domain = (text or "").strip().rpartition("@")
    return f"{local}@{domain.lower()}" if at and local and domain else None


def _phone_key(text: str) -> str | None:
    """E.164 as ``normalize_phone`` stores a Brazilian number (area code + number) or one
    written with +country; only to point at similar accounts, so approximate is enough."""
    digits = "".join(c for c in text or "" if c.isdigit())
    if (text or "").strip().startswith("+"):
        return f"+{digits}" if digits else None
    digits = digits.removeprefix("0")  # a long-distance 0
    return f"+55{digits}" if len(digits) in (10, 11) else None


@dataclass
class AccountBatch:
    visible_by_tax_id: dict[str, Account]
    taken_tax_ids: set[str]  # registered, whether or not the user sees them
    visible_by_email: dict[str, list[Account]]
    # CNPJ root / phone -> an account's name, or None for one outside the user's scope
    # (never named: see services.accounts.find_duplicates)
    similar_root: dict[str, str | None]
    similar_phone: dict[str, str | None]
    users: dict[str, User]
    categories: dict[str, Category]
    tags: dict[str, Tag]


def prepare_accounts(rows: list[dict], user) -> AccountBatch:
    session = db.session
    tax_ids = {t for t in (v.normalize_tax_id(_text(r, "tax_id")) for r in rows) if t}
    emails = {e for e in (_email_key(_text(r, "email")) for r in rows) if e}
    phones = {p for r in rows for p in (_phone_key(_text(r, "phone")),
                                        _phone_key(_text(r, "mobile"))) if p}
    roots = {root for root in (v.cnpj_root(t) for t in tax_ids) if root}
    visible_by_tax_id, taken, by_email = {}, set(), defaultdict(list)
    similar_root, similar_phone = {}, {}
    if tax_ids:
        taken = set(session.scalars(select(Account.tax_id).where(Account.tax_id.in_(tax_ids))))
        visible_by_tax_id = {a.tax_id: a for a in session.scalars(select(Account).where(
            Account.tax_id.in_(tax_ids), account_scope(user)))}
    if emails:
        for account in session.scalars(select(Account).where(
                Account.email.in_(emails), account_scope(user)).order_by(Account.id)):
            by_email[account.email].append(account)
    visible = account_scope(user).label("visible")
    if roots:
        for root, name, seen in session.execute(
                select(Account.tax_id_root, Account.legal_name, visible)
                .where(Account.tax_id_root.in_(roots)).order_by(Account.id)):
            similar_root.setdefault(root, name if seen else None)
    if phones:
        for phone, mobile, name, seen in session.execute(
                select(Account.phone, Account.mobile, Account.legal_name, visible).where(
                    or_(Account.phone.in_(phones), Account.mobile.in_(phones)))
                .order_by(Account.id)):
            for number in (phone, mobile):
                if number in phones:
                    similar_phone.setdefault(number, name if seen else None)
    owners = {_text(r, "owner") for r in rows}
    needs_lists = any(_text(r, "category") or _text(r, "tags") for r in rows)
    categories = {_key(c.name): c for c in session.scalars(select(Category))} if (
        needs_lists) else {}
    tags = {_key(t.name): t for t in session.scalars(select(Tag))} if needs_lists else {}
    return AccountBatch(visible_by_tax_id, taken, by_email, similar_root, similar_phone,
                        _users_by_login(owners), categories, tags)


def _account_data(values: dict, batch: AccountBatch) -> dict[str, Any]:
    """The row as ``clean_account`` input; blank cells left out (an update keeps them)."""
    data: dict[str, Any] = {}
    for name in ACCOUNT_TEXT:
        if _text(values, name):
            data[name] = _text(values, name)
    label = ACCOUNT_LABELS
    if _text(values, "person_type"):
        kind = PERSON_TYPES.get(_key(_text(values, "person_type")))
        if kind is None:
            raise RowError(_("%(field)s: use PJ (company) or PF (person).",
                             field=label["person_type"]))
        data["person_type"] = kind
    if _text(values, "lifecycle"):
        lifecycle = LIFECYCLES.get(_key(_text(values, "lifecycle")))
        if lifecycle is None:
            raise RowError(_("%(field)s: use prospect or customer (cliente).",
                             field=label["lifecycle"]))
        data["lifecycle"] = lifecycle
    if _text(values, "category"):
        category = batch.categories.get(_key(_text(values, "category")))
        if category is None:
            raise RowError(_("%(field)s: no category named %(name)s.", field=label["category"],
                             name=_text(values, "category")))
        data["category_id"] = category.id
    if _text(values, "tags"):
        names = [n.strip() for n in _text(values, "tags").replace(";", ",").split(",")]
        missing = [n for n in names if n and _key(n) not in batch.tags]
        if missing:
            raise RowError(_("%(field)s: no tag named %(names)s.", field=label["tags"],
                             names=", ".join(missing)))
        data["tag_ids"] = [batch.tags[_key(n)].id for n in names if n]
    owner_id = _user_id(values, "owner", batch.users, label["owner"])
    if owner_id is not None:
        data["owner_id"] = owner_id
    priority = _flag(values, "priority", label["priority"])
    if priority is not None and _text(values, "priority"):
        data["priority"] = priority
    if _text(values, "opened_on"):
        data["opened_on"] = _date(values, "opened_on", label["opened_on"])
    return data


def _match_account(data: dict, batch: AccountBatch) -> Account | None:
    """The account this row updates: same CNPJ/CPF; else the one with its e-mail (and no
    other CNPJ/CPF). Refused: a CNPJ/CPF registered by someone the user does not see."""
    tax_id = v.normalize_tax_id(data.get("tax_id"))
    if tax_id:
        if tax_id in batch.visible_by_tax_id:
            return batch.visible_by_tax_id[tax_id]
        if tax_id in batch.taken_tax_ids:  # by an account the user does not see
            raise RowError(_("%(field)s: an account with this CNPJ/CPF already exists in "
                             "another portfolio; ask a manager.",
                             field=ACCOUNT_LABELS["tax_id"]))
    email = _email_key(data.get("email", ""))
    candidates = [a for a in batch.visible_by_email.get(email, [])
                  if not tax_id or not a.tax_id or a.tax_id == tax_id] if email else []
    if len(candidates) > 1:
        raise RowError(_("%(field)s: %(n)d accounts have this e-mail; add the CNPJ/CPF to "
                         "choose one.", field=ACCOUNT_LABELS["email"], n=len(candidates)))
    return candidates[0] if candidates else None


def _similar_note(values: dict[str, Any], batch: AccountBatch) -> str:
    notes = []
    elsewhere = _("an account in another portfolio")
    if values.get("tax_id_root") and values["tax_id_root"] in batch.similar_root:
        notes.append(_("same CNPJ root as %(name)s", name=batch.similar_root[
            values["tax_id_root"]] or elsewhere))
    for number in (values.get("phone"), values.get("mobile")):
        if number and number in batch.similar_phone:
            notes.append(_("same phone as %(name)s",
                           name=batch.similar_phone[number] or elsewhere))
            break
    return _("Similar to existing accounts: %(list)s.", list="; ".join(notes)) if notes else ""


def validate_account(values: dict, user, batch: AccountBatch) -> RowPlan:
    data = _account_data(values, batch)
    account = _match_account(data, batch)
    try:
        cleaned = clean_account(data, user=user, current=account)
    except InvalidInput as error:
        raise RowError(_message(error, ACCOUNT_LABELS)) from None
    tax_id = cleaned.get("tax_id")
    if account is not None:
        keys = (("tax_id", tax_id),) if tax_id else ()
        return RowPlan("update", (account, cleaned), keys + (("account", str(account.id)),),
                       note=_("Updates %(name)s.", name=account.display_name))
    keys = (("tax_id", tax_id),) if tax_id else (
        (("email", cleaned["email"]),) if cleaned.get("email") else ())
    return RowPlan("create", (None, cleaned), keys, note=_similar_note(cleaned, batch))


def write_accounts(payloads: list, user) -> None:
    session = db.session
    for account, values in payloads:
        if account is None:
            session.add(Account(**values))
        else:
            for name, value in values.items():
                setattr(account, name, value)


# --- contacts --------------------------------------------------------------------------------

CONTACT_FIELDS = (
    _field("name", _l("Name"), "nome", "contato", "contact", "nome do contato", "contact name",
           "pessoa", required=True),
    _field("position", _l("Position"), "cargo", "funcao", "job title", "title"),
    _field("email", _l("E-mail"), "e mail", "email", "mail"),
    _field("phone", _l("Phone"), "telefone", "fone", "tel", "telephone"),
    _field("mobile", _l("Mobile"), "celular", "cel", "whatsapp", "cell phone"),
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


# --- opportunities -------------------------------------------------------------------------

OPPORTUNITY_FIELDS = (
    _field("title", _l("Title"), "titulo", "assunto", "oportunidade", "opportunity", "subject",
           "nome da oportunidade", required=True),
    _field("account", _l("Account"), "conta", "cliente", "empresa", "company", "customer",
           "cnpj", "cnpj cpf", "razao social", required=True,
           help=_l("CNPJ/CPF or name of an account you see")),
    _field("contact", _l("Contact person"), "contato", "contact", "pessoa de contato",
           help=_l("name or e-mail of one of the account's contacts")),
    _field("stage", _l("Stage"), "etapa", "fase", "estagio", "stage",
           help=_l("the name of a funnel stage; default: the first")),
    _field("owner", _l("Owner"), "responsavel", "vendedor", "owner", "salesperson",
           help=_l("login or e-mail of a user; default: you")),
    _field("value", _l("Estimated value"), "valor", "valor estimado", "value", "amount",
           "estimated value", help=_l("e.g. 1.234,56")),
    _field("expected_close_on", _l("Expected close"), "previsao de fechamento",
           "fechamento previsto", "data prevista", "previsao", "expected close date",
           "close date", help=_l("a date such as 31/12/2026")),
    _field("priority", _l("Priority"), "prioridade", help=_l("yes or no")),
    _field("contact_medium", _l("Contact medium"), "meio de contato", "origem", "canal",
           "source", "medium"),
    _field("source_campaign", _l("Source campaign"), "campanha", "campaign"),
    _field("service_type", _l("Service type"), "tipo de atendimento", "tipo de servico"),
    _field("subject_note", _l("Current subject"), "assunto atual", "nota", "observacoes",
           "notes", "obs"),
)
OPPORTUNITY_LABELS = {f.name: f.label for f in OPPORTUNITY_FIELDS} | {
    "account_id": _l("Account"), "contact_id": _l("Contact person"), "stage_id": _l("Stage"),
    "owner_id": _l("Owner"), "items": _l("Estimated value")}
MEDIA_ALIASES = {"evento": "event", "feira": "event", "anuncio": "ad", "propaganda": "ad",
                 "rede social": "social", "redes sociais": "social", "site": "website",
                 "indicacao": "referral", "e mail": "email", "telefone": "phone",
                 "outro": "other", "outros": "other"}


@dataclass
class OpportunityBatch:
    accounts: AccountRefs
    stages: dict[str, Stage]
    users: dict[str, User]
    contacts: dict[int, list[Contact]]  # account id -> its contacts


def prepare_opportunities(rows: list[dict], user) -> OpportunityBatch:
    session = db.session
    accounts = AccountRefs.load({_text(r, "account") for r in rows} - {""}, user)
    stages = {_key(s.name): s for s in session.scalars(select(Stage).order_by(Stage.sequence))}
    contacts: dict[int, list[Contact]] = defaultdict(list)
    account_ids = {a.id for a in accounts.by_tax_id.values()} | {
        a.id for found in accounts.by_name.values() for a in found}
    if account_ids and any(_text(r, "contact") for r in rows):
        for account_id, contact in session.execute(
                select(AccountContact.account_id, Contact).join(Contact)
                .where(AccountContact.account_id.in_(account_ids))):
            contacts[account_id].append(contact)
    return OpportunityBatch(accounts, stages, _users_by_login({_text(r, "owner") for r in rows}),
                            contacts)


def _medium(text: str) -> str:
    key = _key(text)
    if key in CONTACT_MEDIA:
        return key
    if key in MEDIA_ALIASES:
        return MEDIA_ALIASES[key]
    for code, label in MEDIUM_LABELS.items():
        if key == _key(str(label)):
            return code
    raise RowError(_("%(field)s: unknown medium %(name)s.",
                     field=OPPORTUNITY_LABELS["contact_medium"], name=text))


def validate_opportunity(values: dict, user, batch: OpportunityBatch) -> RowPlan:
    labels = OPPORTUNITY_LABELS
    account = batch.accounts.find(_text(values, "account"), labels["account"])
    data: dict[str, Any] = {"title": _text(values, "title"), "account_id": account.id}
    for name in ("source_campaign", "service_type", "subject_note"):
        if _text(values, name):
            data[name] = _text(values, name)
    if _text(values, "stage"):
        stage = batch.stages.get(_key(_text(values, "stage")))
        if stage is None:
            raise RowError(_("%(field)s: no stage named %(name)s (stages: %(stages)s).",
                             field=labels["stage"], name=_text(values, "stage"),
                             stages=", ".join(s.name for s in batch.stages.values())))
        data["stage_id"] = stage.id
    owner_id = _user_id(values, "owner", batch.users, labels["owner"])
    if owner_id is not None:
        data["owner_id"] = owner_id
    if _text(values, "contact"):
        wanted = _key(_text(values, "contact"))
        found = [c for c in batch.contacts.get(account.id, [])
                 if wanted in (_key(c.name), _key(c.email or ""))]
        if len(found) != 1:
            raise RowError(_("%(field)s: %(name)s is not one of the account's contacts.",
                             field=labels["contact"], name=_text(values, "contact")))
        data["contact_id"] = found[0].id
    if _text(values, "value"):
        value = values["value"]  # an XLSX number stays a number: never misread "1.234"
        data["items"] = [{"description": data["title"], "quantity": "1",
                          "unit_price": value if isinstance(value, int | float) else
                          _text(values, "value")}]
    if _text(values, "expected_close_on"):
        data["expected_close_on"] = _date(values, "expected_close_on",
                                          labels["expected_close_on"])
    if _text(values, "priority"):
        data["priority"] = _flag(values, "priority", labels["priority"])
    if _text(values, "contact_medium"):
        data["contact_medium"] = _medium(_text(values, "contact_medium"))
    try:
        cleaned = clean_opportunity(data, user=user)
    except InvalidInput as error:
        raise RowError(_message(error, labels)) from None
    return RowPlan("create", cleaned,
                   (("title", f"{account.id}:{_key(cleaned['title'])}"),),
                   note=account.display_name)


def write_opportunities(payloads: list, user) -> None:
    session = db.session
    opportunities = [new_opportunity(values) for values in payloads]
    session.add_all(opportunities)
    session.flush()  # ids for the history rows
    for opportunity in opportunities:
        record_created(opportunity, user)


IMPORTERS = (
    Importer("accounts", _l("Accounts"), ACCOUNT_FIELDS, validate_account, write_accounts,
             prepare_accounts, permission=WRITE, order=10,
             description=_l("Existing accounts are found by CNPJ/CPF, then by e-mail, and "
                            "updated; blank cells keep what they have.")),
    Importer("contacts", _l("Contacts"), CONTACT_FIELDS, validate_contact, write_contacts,
             prepare_contacts, permission=WRITE, order=20,
             description=_l("Existing contacts are found by e-mail and updated; the account "
                            "column links each contact to an account, in the role given.")),
    Importer("opportunities", _l("Opportunities"), OPPORTUNITY_FIELDS, validate_opportunity,
             write_opportunities, prepare_opportunities, permission=WRITE, order=30,
             description=_l("Each row is a new open opportunity; its value becomes one item.")),
)
