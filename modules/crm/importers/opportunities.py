"""The opportunities importer: always new; the value becomes one item."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from erp.auth.models import User
from erp.db import db
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.imports import RowError, RowPlan

from ..labels import CONTACT_MEDIUM_LABELS
from ..models import (
    CONTACT_MEDIA,
    AccountContact,
    Contact,
    Stage,
)
from ..services.opportunities import clean_opportunity, new_opportunity, record_created
from .common import (
    AccountRefs,
    _date,
    _field,
    _flag,
    _key,
    _message,
    _text,
    _user_id,
    _users_by_login,
)

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

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
    for code, label in CONTACT_MEDIUM_LABELS.items():
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
