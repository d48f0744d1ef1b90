"""The opportunities importer: matched by external reference, then by account + title
(issue 19), and updated (blank cells keep the current value); otherwise new. The value
becomes one item."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from erp.auth import scope_clause
from erp.auth.models import User
from erp.db import db, utcnow
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.imports import RowError, RowPlan

from ..labels import CONTACT_MEDIUM_LABELS
from ..models import (
    CONTACT_MEDIA,
    AccountContact,
    Contact,
    Opportunity,
    ServiceType,
    Stage,
)
from ..models.search_text import fold
from ..services import service_types
from ..services.external_refs import external_ref_in
from ..services.history import record_changes
from ..services.opportunities import (
    _apply_items,
    _diff,
    _snapshot,
    clean_opportunity,
    new_opportunity,
    opportunity_scope,
    record_created,
)
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
    guess_owner,
    owner_choices,
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
    _field("external_ref", _l("External reference"), "codigo", "cod", "id", "id externo",
           "codigo externo", "referencia externa", "external id", "external ref",
           "external reference", "codigo da oportunidade", "id da oportunidade",
           "numero da proposta", "codigo do negocio", "id do negocio",
           help=_l("the record's code in the system it comes from: a re-import updates "
                   "it")),
    _field("stage", _l("Stage"), "etapa", "fase", "estagio", "stage", "etapa do funil",
           "fase do funil", help=_l("the name of a funnel stage; default: the first"),
           choices=lambda: [(s.name, s.name) for s in db.session.scalars(
               select(Stage).order_by(Stage.sequence, Stage.id))],
           guess=lambda text: _guess_stage(text)),
    _field("owner", _l("Owner"), "responsavel", "vendedor", "owner", "salesperson",
           help=_l("login or e-mail of a user; default: you"),
           choices=owner_choices, guess=guess_owner),
    _field("value", _l("Estimated value"), "valor", "valor estimado", "value", "amount",
           "estimated value", help=_l("e.g. 1.234,56")),
    _field("expected_close_on", _l("Expected close"), "previsao de fechamento",
           "fechamento previsto", "data prevista", "previsao", "expected close date",
           "close date", help=_l("a date such as 31/12/2026")),
    _field("priority", _l("Priority"), "prioridade", help=_l("yes or no")),
    _field("contact_medium", _l("Contact medium"), "meio de contato", "origem", "canal",
           "source", "medium",
           choices=lambda: [(code, str(label)) for code, label in CONTACT_MEDIUM_LABELS.items()],
           guess=lambda text: _medium_code(text)),
    _field("source_campaign", _l("Source campaign"), "campanha", "campaign"),
    # One of the company's list by its name (case and accents aside): the administrator
    # configures the list, an import never adds to it (issue 17).
    _field("service_type", _l("Service type"), "tipo de atendimento", "tipo de servico",
           choices=lambda: [(t.name, t.name) for t in service_types.choosable()],
           guess=lambda text: getattr(service_types.by_name(text), "name", None)),
    _field("subject_note", _l("Current subject"), "assunto atual", "nota", "observacoes",
           "notes", "obs"),
)
OPPORTUNITY_LABELS = {f.name: f.label for f in OPPORTUNITY_FIELDS} | {
    "account_id": _l("Account"), "contact_id": _l("Contact person"), "stage_id": _l("Stage"),
    "owner_id": _l("Owner"), "items": _l("Estimated value"),
    "service_type_id": _l("Service type")}
MEDIA_ALIASES = {"evento": "event", "feira": "event", "anuncio": "ad", "propaganda": "ad",
                 "rede social": "social", "redes sociais": "social", "site": "website",
                 "indicacao": "referral", "e mail": "email", "telefone": "phone",
                 "outro": "other", "outros": "other"}


EXTERNAL_REF_MAX = 60


def _guess_stage(text: str) -> str | None:
    wanted = _key(text)
    for stage in db.session.scalars(select(Stage)):
        if _key(stage.name) == wanted:
            return stage.name
    return None


@dataclass
class OpportunityBatch:
    accounts: AccountRefs
    stages: dict[str, Stage]
    users: dict[str, User]
    contacts: dict[int, list[Contact]]  # account id -> its contacts
    # Existing opportunities the user sees: by external reference, by (account, title).
    by_ref: dict[str, list[Opportunity]] = field(default_factory=dict)
    by_title: dict[tuple[int, str], list[Opportunity]] = field(default_factory=dict)
    # The service types by their folded name (loaded once, when the file names any).
    service_types: dict[str, ServiceType] = field(default_factory=dict)


def _external_ref(values: dict) -> str:
    return _text(values, "external_ref")[:EXTERNAL_REF_MAX]


def prepare_opportunities(rows: list[dict], user) -> OpportunityBatch:
    session = db.session
    accounts = AccountRefs.load({_text(r, "account") for r in rows} - {""}, user)
    stages = {_key(s.name): s for s in session.scalars(select(Stage).order_by(Stage.sequence))}
    contacts: dict[int, list[Contact]] = defaultdict(list)
    account_ids = {a.id for a in accounts.by_tax_id.values()} | {
        a.id for found in accounts.by_name.values() for a in found}
    if account_ids and any(_text(r, "contact") for r in rows):
        for account_id, contact in session.execute(  # archived contacts are not offered
                select(AccountContact.account_id, Contact).join(Contact)
                .where(AccountContact.account_id.in_(account_ids),
                       Contact.archived.is_(False))):
            contacts[account_id].append(contact)
    batch = OpportunityBatch(accounts, stages,
                             _users_by_login({_text(r, "owner") for r in rows}), contacts)
    _load_existing(batch, rows, account_ids, user)
    if any(_text(r, "service_type") for r in rows):
        batch.service_types = {fold(t.name): t for t in service_types.service_types()}
    return batch


def _load_existing(batch: OpportunityBatch, rows: list[dict], account_ids: set[int],
                   user) -> None:
    """The opportunities the rows may update: by external reference, then among the
    rows' accounts by title (the account's index, then the titles: a few per account)."""
    session = db.session
    by_ref: dict[str, list[Opportunity]] = defaultdict(list)
    refs = {r for r in (_external_ref(r) for r in rows) if r}
    if refs:
        for opportunity in sorted(session.scalars(opportunities_by_ref_select(refs, user)
                                                  .options(selectinload(Opportunity.items))),
                                  key=lambda o: o.id):
            by_ref[opportunity.external_ref].append(opportunity)
    by_title: dict[tuple[int, str], list[Opportunity]] = defaultdict(list)
    titles = {_text(r, "title") for r in rows} - {""}
    if titles and account_ids:
        wanted = {_key(t) for t in titles}
        for opportunity in sorted(session.scalars(opportunities_by_title_select(
                account_ids, titles, user).options(selectinload(Opportunity.items))),
                key=lambda o: o.id):
            key = _key(opportunity.title)
            if key in wanted:
                by_title[(opportunity.account_id, key)].append(opportunity)
    batch.by_ref, batch.by_title = by_ref, by_title


def opportunities_by_ref_select(refs: set[str], user):
    """The opportunities ``user`` sees with one of the external references: read from
    the reference's index (services/external_refs.py: external_ref_in); the scope on
    ``owner_id + 0``, as for accounts (see accounts_by_external_ref_select)."""
    return select(Opportunity).where(external_ref_in(Opportunity.__table__, refs),
                                     scope_clause(Opportunity.owner_id + 0, user))


def opportunities_by_title_select(account_ids: set[int], titles: set[str], user):
    """The opportunities of the accounts with one of the titles (without case), that
    ``user`` sees: read through the accounts' index, a few per account."""
    lowered = {t.lower() for t in titles}
    return select(Opportunity).where(
        Opportunity.account_id.in_(account_ids), Opportunity.archived.is_(False),
        or_(Opportunity.title.in_(titles), func.lower(Opportunity.title).in_(lowered)),
        opportunity_scope(user))


def _match(batch: OpportunityBatch, external_ref: str, account_id: int,
           title: str) -> Opportunity | None:
    """The opportunity a row updates: its external reference; else the only one of the
    account with this title (an open one first)."""
    labels = OPPORTUNITY_LABELS
    found = batch.by_ref.get(external_ref, []) if external_ref else []
    if len(found) > 1:
        raise RowError(_("%(field)s: %(n)d opportunities have the reference %(ref)s.",
                         field=labels["external_ref"], n=len(found), ref=external_ref))
    if found:
        return found[0]
    same = batch.by_title.get((account_id, _key(title)), [])
    if external_ref:  # one with another reference is another opportunity
        same = [o for o in same if not o.external_ref]
    open_ones = [o for o in same if o.is_open]
    candidates = open_ones or same
    if len(candidates) > 1:
        raise RowError(_("%(field)s: the account has %(n)d opportunities titled %(title)s; "
                         "add an external reference to choose one.",
                         field=labels["title"], n=len(candidates), title=title))
    return candidates[0] if candidates else None


def _medium_code(text: str) -> str | None:
    key = _key(text)
    if key in CONTACT_MEDIA:
        return key
    if key in MEDIA_ALIASES:
        return MEDIA_ALIASES[key]
    for code, label in CONTACT_MEDIUM_LABELS.items():
        if key == _key(str(label)):
            return code
    return None


def _medium(text: str) -> str:
    code = _medium_code(text)
    if code is not None:
        return code
    raise RowError(_("%(field)s: unknown medium %(name)s.",
                     field=OPPORTUNITY_LABELS["contact_medium"], name=text))


def _service_type_id(batch: OpportunityBatch, name: str) -> int:
    """The id of the service type so named; the row is refused with the list otherwise
    (an inactive one is refused by the service unless the opportunity has it already)."""
    found = batch.service_types.get(fold(name))
    if found is None:
        raise RowError(_(
            "%(field)s: no service type named %(name)s (service types: %(names)s); an "
            "administrator configures the list.", field=OPPORTUNITY_LABELS["service_type"],
            name=name, names=", ".join(t.name for t in batch.service_types.values()
                                       if t.active)))
    return found.id


def validate_opportunity(values: dict, user, batch: OpportunityBatch) -> RowPlan:
    labels = OPPORTUNITY_LABELS
    account = batch.accounts.find(_text(values, "account"), labels["account"])
    external_ref = _external_ref(values)
    current = _match(batch, external_ref, account.id, _text(values, "title"))
    data: dict[str, Any] = {"title": _text(values, "title"), "account_id": account.id}
    for name in ("source_campaign", "subject_note"):
        if _text(values, name):
            data[name] = _text(values, name)
    if _text(values, "service_type"):
        data["service_type_id"] = _service_type_id(batch, _text(values, "service_type"))
    if _text(values, "stage"):
        stage = batch.stages.get(_key(_text(values, "stage")))
        if stage is None:
            raise RowError(_("%(field)s: no stage named %(name)s (stages: %(stages)s).",
                             field=labels["stage"], name=_text(values, "stage"),
                             stages=", ".join(s.name for s in batch.stages.values())))
        if current is not None and not current.is_open and stage.id != current.stage_id:
            raise RowError(_("%(field)s: %(title)s is closed; reopen it to change its stage.",
                             field=labels["stage"], title=current.title))
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
        if current is not None and len(current.items) > 1:
            raise RowError(_("%(field)s: %(title)s has %(n)d items; change them on its page.",
                             field=labels["value"], title=current.title,
                             n=len(current.items)))
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
        cleaned = clean_opportunity(data, user=user, current=current)
    except InvalidInput as error:
        raise RowError(_message(error, labels)) from None
    if external_ref:
        cleaned["external_ref"] = external_ref
    # Two rows of the file for one opportunity: the same reference, or, without one,
    # the same account and title.
    keys = ((("external_ref", external_ref),) if external_ref
            else (("title", f"{account.id}:{_key(cleaned['title'])}"),))
    if current is not None:
        return RowPlan("update", (current, cleaned),
                       keys + (("opportunity", str(current.id)),),
                       note=_("Updates %(title)s (%(account)s).", title=current.title,
                              account=account.display_name))
    return RowPlan("create", (None, cleaned), keys, note=account.display_name)


def write_opportunities(payloads: list, user) -> None:
    """New opportunities added in one flush, each with its "created" history row;
    updates as the form makes them: the stage's entry time, the history of what changed
    (stage, owner, value), items replaced when a value is given."""
    session = db.session
    for opportunity, values in payloads:
        if opportunity is None:
            continue
        values = dict(values)
        before = _snapshot(opportunity)
        items = values.pop("items", None)
        for key, value in values.items():
            setattr(opportunity, key, value)
        if items is not None and opportunity.items:
            # Its one item changed in place (validate refused more): an update the
            # import's undo puts back, where replacing it would delete a row.
            for key, value in items[0].items():
                setattr(opportunity.items[0], key, value)
            opportunity.estimated_value = opportunity.compute_estimated_value()
        elif items is not None:
            _apply_items(opportunity, items)
        if opportunity.stage_id != before["stage_id"]:
            opportunity.stage_entered_at = utcnow()
        session.flush()
        record_changes(opportunity, user, _diff(before, opportunity), was_open=before["open"])
    opportunities = [new_opportunity(values) for current, values in payloads if current is None]
    session.add_all(opportunities)
    session.flush()  # ids for the history rows
    for opportunity in opportunities:
        record_created(opportunity, user)
