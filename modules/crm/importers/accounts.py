"""The accounts importer: matched by CNPJ/CPF, then by e-mail, and updated (blank cells
keep the current value); accounts that only look alike are created, with a note."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, union

from erp.auth import scope_clause
from erp.auth.models import User
from erp.db import db, one_of
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.imports import RowError, RowPlan, cell_text, insert_records
from erp.imports.cells import padded_cep, padded_tax_id

from ..models import (
    LIFECYCLE_CUSTOMER,
    LIFECYCLE_PROSPECT,
    Account,
    Category,
    Tag,
)
from ..services import validation as v
from ..services.accounts import clean_account, record_created_events
from ..services.external_refs import external_ref_in
from ..services.scope import account_scope
from .common import (
    _date,
    _email_key,
    _field,
    _flag,
    _key,
    _message,
    _text,
    _user_id,
    _users_by_login,
    guess_owner,
    guess_state,
    owner_choices,
    state_choices,
)

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

ACCOUNT_FIELDS = (
    _field("legal_name", _l("Legal name"), "razao social", "nome", "name", "company",
           "company name", "empresa", "nome da empresa", "conta", "account", "cliente",
           required=True),
    _field("trade_name", _l("Trade name (nome fantasia)"), "trade name", "nome fantasia",
           "fantasia"),
    _field("short_name", _l("Short name"), "nome curto", "apelido", "abreviacao"),
    _field("tax_id", _l("CNPJ / CPF"), "cnpj", "cpf", "cnpj cpf", "cpf cnpj", "tax id",
           "documento", "document", "cnpj ou cpf", "cpf ou cnpj", "cnpj cpf do cliente",
           "cpf cnpj do cliente"),
    _field("external_ref", _l("External reference"), "codigo", "cod", "id", "id externo",
           "codigo externo", "referencia externa", "external id", "external ref",
           "external reference", "codigo do cliente", "cod cliente", "codigo cliente",
           "id do cliente", "id do contato", "codigo do contato",
           help=_l("the record's code in the system it comes from: a re-import finds it "
                   "by this first")),
    _field("person_type", _l("Type"), "tipo", "tipo de pessoa", "pessoa", "person type",
           "pf pj", "pj pf", "tipo pessoa", "fisica juridica", "tipo do contato",
           help=_l("PJ (company) or PF (person); guessed from the CNPJ/CPF"),
           choices=lambda: [("PJ", _("PJ (company)")), ("PF", _("PF (person)"))],
           guess=lambda text: PERSON_TYPES.get(_key(text))),
    _field("state_registration", _l("State registration (IE)"), "ie", "inscricao estadual",
           "insc estadual", "state registration", "ie rg", "rg ie", "ie ou rg",
           "inscricao estadual rg", "inscricao", "insc est", "inscricao estadual ie",
           help=_l("for a person (PF), an RG that is no state registration goes to the "
                   "notes")),
    _field("lifecycle", _l("Lifecycle"), "ciclo de vida", "situacao", "status",
           "situacao do cliente", "situacao do contato",
           help=_l("prospect or customer (cliente); archived for an inactive record"),
           choices=lambda: [(LIFECYCLE_PROSPECT, _("Prospect")),
                            (LIFECYCLE_CUSTOMER, _("Customer")),
                            (ARCHIVED, _("Archived (inactive)"))],
           guess=lambda text: LIFECYCLES.get(_key(text))),
    _field("email", _l("E-mail"), "e mail", "email", "mail", "correio eletronico",
           "e mail principal", "email principal"),
    _field("phone", _l("Phone"), "telefone", "fone", "tel", "telephone", "phone number",
           "telefone comercial", "telefone 1", "fone 1", "fone comercial"),
    _field("mobile", _l("Mobile"), "celular", "cel", "whatsapp", "cell phone", "mobile phone",
           "celular whatsapp", "whatsapp celular", "telefone celular", "fone celular"),
    _field("website", _l("Website"), "site", "web", "url", "pagina", "homepage"),
    _field("cep", _l("CEP"), "zip", "zip code", "postal code", "codigo postal"),
    _field("street", _l("Street"), "endereco", "logradouro", "rua", "address"),
    _field("number", _l("Number"), "numero", "no", "n", "num"),
    _field("complement", _l("Complement"), "complemento"),
    _field("district", _l("District"), "bairro", "neighborhood", "neighbourhood"),
    _field("city", _l("City"), "cidade", "municipio", "town"),
    _field("state", _l("State"), "uf", "estado", "uf estado",
           choices=state_choices, guess=guess_state),
    _field("category", _l("Category"), "categoria", "segmento", "category",
           help=_l("the name of an existing category"),
           choices=lambda: [(c.name, c.name) for c in db.session.scalars(
               select(Category).order_by(Category.name))],
           guess=lambda text: next((c.name for c in db.session.scalars(select(Category))
                                    if _key(c.name) == _key(text)), None)),
    _field("owner", _l("Owner"), "responsavel", "vendedor", "dono", "owner",
           help=_l("login or e-mail of a user; default: you"),
           choices=owner_choices, guess=guess_owner),
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
                "company": "PJ", "j": "PJ", "cnpj": "PJ",
                "pf": "PF", "fisica": "PF", "pessoa fisica": "PF", "f": "PF", "cpf": "PF",
                "pessoa": "PF", "person": "PF", "individual": "PF"}
ARCHIVED = "archived"  # a lifecycle choice of the import only: the account is archived
LIFECYCLES = {"prospect": LIFECYCLE_PROSPECT, "prospecto": LIFECYCLE_PROSPECT,
              "prospeccao": LIFECYCLE_PROSPECT, "lead": LIFECYCLE_PROSPECT,
              "potencial": LIFECYCLE_PROSPECT, "em prospeccao": LIFECYCLE_PROSPECT,
              "customer": LIFECYCLE_CUSTOMER, "cliente": LIFECYCLE_CUSTOMER,
              "client": LIFECYCLE_CUSTOMER, "ativo": LIFECYCLE_CUSTOMER,
              "ativa": LIFECYCLE_CUSTOMER, "active": LIFECYCLE_CUSTOMER,
              "cliente ativo": LIFECYCLE_CUSTOMER,
              "inativo": ARCHIVED, "inativa": ARCHIVED, "inactive": ARCHIVED,
              "arquivado": ARCHIVED, "arquivada": ARCHIVED, "archived": ARCHIVED,
              "excluido": ARCHIVED, "cliente inativo": ARCHIVED}
EXTERNAL_REF_MAX = 60
ACCOUNT_LABELS = {f.name: f.label for f in ACCOUNT_FIELDS} | {
    "owner_id": _l("Owner"), "category_id": _l("Category"), "tag_ids": _l("Tags")}



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
    visible_by_external_ref: dict[str, list[Account]]


def similar_phones_select(phones: set[str], user):
    """The accounts with one of ``phones`` as phone or mobile (their numbers, name and
    whether ``user`` sees them), oldest first: the accounts joined to a UNION of the two
    indexed look-ups. As "phone IN (...) OR mobile IN (...)" PostgreSQL read the whole
    table for each batch of a growing import (500 numbers estimated to match 500 rows)."""
    either = union(select(Account.id).where(one_of(Account.phone, phones)),
                   select(Account.id).where(one_of(Account.mobile, phones))).subquery()
    return (select(Account.phone, Account.mobile, Account.legal_name,
                   account_scope(user).label("visible"))
            .join(either, Account.id == either.c.id).order_by(Account.id))


def prepare_accounts(rows: list[dict], user) -> AccountBatch:
    session = db.session
    tax_ids = {t for t in (v.normalize_tax_id(padded_tax_id(r.get("tax_id"))) for r in rows)
               if t}
    emails = {e for e in (_email_key(_text(r, "email")) for r in rows) if e}
    phones = {p for r in rows for p in (_phone_key(_text(r, "phone")),
                                        _phone_key(_text(r, "mobile"))) if p}
    roots = {root for root in (v.cnpj_root(t) for t in tax_ids) if root}
    visible_by_tax_id, taken, by_email = {}, set(), defaultdict(list)
    similar_root, similar_phone = {}, {}
    if tax_ids:
        taken = set(session.scalars(select(Account.tax_id).where(one_of(Account.tax_id, tax_ids))))
        visible_by_tax_id = {a.tax_id: a for a in session.scalars(select(Account).where(
            one_of(Account.tax_id, tax_ids), account_scope(user)))}
    if emails:
        for account in session.scalars(select(Account).where(
                one_of(Account.email, emails), account_scope(user)).order_by(Account.id)):
            by_email[account.email].append(account)
    visible = account_scope(user).label("visible")
    if roots:
        for root, name, seen in session.execute(
                select(Account.tax_id_root, Account.legal_name, visible)
                .where(one_of(Account.tax_id_root, roots)).order_by(Account.id)):
            similar_root.setdefault(root, name if seen else None)
    if phones:
        for phone, mobile, name, seen in session.execute(similar_phones_select(phones, user)):
            for number in (phone, mobile):
                if number in phones:
                    similar_phone.setdefault(number, name if seen else None)
    owners = {_text(r, "owner") for r in rows}
    needs_lists = any(_text(r, "category") or _text(r, "tags") for r in rows)
    categories = {_key(c.name): c for c in session.scalars(select(Category))} if (
        needs_lists) else {}
    tags = {_key(t.name): t for t in session.scalars(select(Tag))} if needs_lists else {}
    refs = {r for r in (_external_ref(r) for r in rows) if r}
    by_ref: dict[str, list[Account]] = defaultdict(list)
    if refs:
        for account in session.scalars(accounts_by_external_ref_select(refs, user)):
            by_ref[account.external_ref].append(account)
    return AccountBatch(visible_by_tax_id, taken, by_email, similar_root, similar_phone,
                        _users_by_login(owners), categories, tags, by_ref)


def accounts_by_external_ref_select(refs: set[str], user):
    """The accounts ``user`` sees with one of the external references: read from the
    reference's index (services/external_refs.py: external_ref_in). The record scope is the
    same as account_scope's, on ``owner_id + 0``: not an index SQLite could pick
    instead, estimating a rep's portfolio at the average one (a rep with 60,000 accounts
    was read whole for each batch)."""
    return select(Account).where(external_ref_in(Account.__table__, refs),
                                 scope_clause(Account.owner_id + 0, user))


def _external_ref(values: dict) -> str:
    return _text(values, "external_ref")[:EXTERNAL_REF_MAX]


def _account_data(values: dict, batch: AccountBatch) -> dict[str, Any]:
    """The row as ``clean_account`` input; blank cells left out (an update keeps them)."""
    texts = {name: cell_text(cell) for name, cell in values.items()}  # each cell's, once
    data: dict[str, Any] = {name: texts[name] for name in ACCOUNT_TEXT if texts.get(name)}
    if "tax_id" in data:  # a number that lost its leading zeros (XLSX, a CSV from it)
        data["tax_id"] = padded_tax_id(values["tax_id"])
    if "cep" in data:
        data["cep"] = padded_cep(values["cep"])
    if "state" in data and data["state"].upper() not in v.BR_STATES:  # "São Paulo"
        data["state"] = guess_state(data["state"]) or data["state"]
    label = ACCOUNT_LABELS
    if texts.get("person_type"):
        kind = PERSON_TYPES.get(_key(texts["person_type"]))
        if kind is None:
            raise RowError(_("%(field)s: use PJ (company) or PF (person).",
                             field=label["person_type"]))
        data["person_type"] = kind
    if texts.get("lifecycle"):
        lifecycle = LIFECYCLES.get(_key(texts["lifecycle"]))
        if lifecycle is None:
            raise RowError(_("%(field)s: use prospect, customer (cliente) or archived "
                             "(inativo).", field=label["lifecycle"]))
        data["lifecycle"] = lifecycle
    if texts.get("category"):
        category = batch.categories.get(_key(texts["category"]))
        if category is None:
            raise RowError(_("%(field)s: no category named %(name)s.", field=label["category"],
                             name=texts["category"]))
        data["category_id"] = category.id
    if texts.get("tags"):
        names = [n.strip() for n in texts["tags"].replace(";", ",").split(",")]
        missing = [n for n in names if n and _key(n) not in batch.tags]
        if missing:
            raise RowError(_("%(field)s: no tag named %(names)s.", field=label["tags"],
                             names=", ".join(missing)))
        data["tag_ids"] = [batch.tags[_key(n)].id for n in names if n]
    owner_id = _user_id(values, "owner", batch.users, label["owner"])
    if owner_id is not None:
        data["owner_id"] = owner_id
    priority = _flag(values, "priority", label["priority"])
    if priority is not None and texts.get("priority"):
        data["priority"] = priority
    if texts.get("opened_on"):
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

    def named(name: str | None) -> str:  # translated only when needed: 100,000 rows
        return name or _("an account in another portfolio")

    if values.get("tax_id_root") and values["tax_id_root"] in batch.similar_root:
        notes.append(_("same CNPJ root as %(name)s",
                       name=named(batch.similar_root[values["tax_id_root"]])))
    for number in (values.get("phone"), values.get("mobile")):
        if number and number in batch.similar_phone:
            notes.append(_("same phone as %(name)s", name=named(batch.similar_phone[number])))
            break
    return _("Similar to existing accounts: %(list)s.", list="; ".join(notes)) if notes else ""


def _person_rg(data: dict, account: Account | None) -> str:
    """An "IE / RG" cell of a person (PF) that is no valid state registration: their RG,
    kept in the notes ("RG: ...") instead of refusing the row or dropping it."""
    registration = data.get("state_registration")
    if not registration:
        return ""
    person_type = data.get("person_type") or v.guess_person_type(
        v.normalize_tax_id(data.get("tax_id"))) or getattr(account, "person_type", None)
    if person_type != "PF":
        return ""
    state = data.get("state") or getattr(account, "state", None)
    try:
        v.validate_state_registration(registration, state)
    except v.ValidationError:
        del data["state_registration"]
        rg = f"RG: {registration}"
        notes = data.get("notes") or getattr(account, "notes", None) or ""
        if rg not in notes:
            data["notes"] = f"{notes}\n{rg}".strip()
        return rg
    return ""


def validate_account(values: dict, user, batch: AccountBatch) -> RowPlan:
    data = _account_data(values, batch)
    external_ref = _external_ref(values)
    account = _match_external_ref(external_ref, batch) or _match_account(data, batch)
    archive = data.get("lifecycle") == ARCHIVED
    if archive:
        del data["lifecycle"]
    rg = _person_rg(data, account)
    try:
        cleaned = clean_account(data, user=user, current=account)
    except InvalidInput as error:
        raise RowError(_message(error, ACCOUNT_LABELS)) from None
    if external_ref:
        cleaned["external_ref"] = external_ref
    if archive:
        cleaned["archived"] = True
    tax_id = cleaned.get("tax_id")
    ref_key = (("external_ref", external_ref),) if external_ref else ()
    extra = _("Kept in the notes: %(rg)s.", rg=rg) if rg else ""
    if account is not None:
        keys = (("tax_id", tax_id),) if tax_id else ()
        return RowPlan("update", (account, cleaned),
                       keys + ref_key + (("account", str(account.id)),),
                       note=" ".join(filter(None, (
                           _("Updates %(name)s.", name=account.display_name), extra))))
    keys = (("tax_id", tax_id),) if tax_id else (
        (("email", cleaned["email"]),) if cleaned.get("email") else ())
    return RowPlan("create", (None, cleaned), keys + ref_key,
                   note=" ".join(filter(None, (_similar_note(cleaned, batch), extra))))


def _match_external_ref(external_ref: str, batch: AccountBatch) -> Account | None:
    """The account with this external reference among those the user sees."""
    found = batch.visible_by_external_ref.get(external_ref, []) if external_ref else []
    if len(found) > 1:
        raise RowError(_("%(field)s: %(n)d accounts have the reference %(ref)s.",
                         field=ACCOUNT_LABELS["external_ref"], n=len(found), ref=external_ref))
    return found[0] if found else None


def write_accounts(payloads: list, user) -> None:
    """Updates through the loaded accounts (flushed by the host); new accounts inserted in
    bulk, with their search text, tags, audit entries and the import's record of them
    (erp.imports.bulk): a few statements per batch instead of one INSERT per row."""
    for account, values in payloads:
        if account is not None:
            for name, value in values.items():
                setattr(account, name, value)
    created = insert_records(Account, [values for account, values in payloads
                                       if account is None])
    record_created_events(created, user, "import")  # one row each, in one statement
