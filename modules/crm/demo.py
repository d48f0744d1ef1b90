"""Demo CRM data: ~30 realistic Brazilian accounts with contacts, through the real services.

Every e-mail address and website is on a domain reserved for examples (RFC 2606:
``*.example.com``): demo data queues real e-mail (quotes, watchers), which must never
reach a real company.
"""

from __future__ import annotations

import random

from faker import Faker
from sqlalchemy import select

from erp.auth.models import User
from erp.db import db
from erp.registry import DemoUser

from .models import Account, AccountContact, Category, LossReason, Stage, Tag
from .permissions import SALES_MANAGER, SALES_REP
from .services import opportunities as pipeline
from .services import service_types
from .services.accounts import create_account
from .services.actions import create_action
from .services.contacts import create_contact, link_contact
from .services.settings import ensure_defaults
from .services.validation import ValidationError, normalize_phone

# The sales team of the demo (the README's logins): created by the host before any loader runs.
TEAM = "Equipe Comercial"
USERS = (
    DemoUser("gerente", "Marta Gerente", SALES_MANAGER, team=TEAM),
    DemoUser("ana", "Ana Vendas", SALES_REP, team=TEAM),
    DemoUser("bruno", "Bruno Vendas", SALES_REP, team=TEAM),
)
ACCOUNTS = 30
SECTORS = ("Alimentos", "Tecnologia", "Transportes", "Construções", "Distribuidora",
           "Metalúrgica", "Agropecuária", "Comércio de Peças", "Serviços Médicos", "Têxtil")
SUFFIXES = ("Ltda.", "S.A.", "Ltda. ME", "EIRELI")
CATEGORIES = ("Indústria", "Comércio", "Serviços", "Agronegócio")
TAGS = (("VIP", "#b02a37"), ("Indicação", "#198754"), ("Feira 2026", "#0d6efd"))
SUBJECTS = ("ERP + NFS-e", "Renovação de licenças", "Módulo de estoque", "Treinamento da equipe",
            "Integração com e-commerce", "Consultoria fiscal", "Migração para a nuvem",
            "Suporte premium")
PRODUCTS = (("Licença ERP (usuário/ano)", "1.200,00"), ("Implantação (hora)", "180,00"),
            ("Treinamento (turma)", "2.500,00"), ("Suporte premium (mês)", "890,00"),
            ("Integração e-commerce", "6.000,00"))
EXAMPLE_DOMAIN = "example.com"  # RFC 2606: never delivered to anyone
ROLES = ("Compras", "Diretor financeiro", "Sócio", "Gerente de TI", "Contas a pagar",
         "Comercial")


def _phone(fake: Faker, mobile: bool) -> str:
    for _attempt in range(20):
        ddd = fake.random_element(("11", "21", "31", "41", "47", "48", "51", "61", "71", "81"))
        local = ("9" + fake.numerify("8#######")) if mobile else fake.numerify("3###-####")
        try:
            return normalize_phone(f"({ddd}) {local}")
        except ValidationError:
            continue
    return ""


def _example_domain(fake: Faker) -> str:
    """A realistic name on a domain reserved for examples: ``silva.example.com``."""
    return f"{fake.domain_word()}.{EXAMPLE_DOMAIN}"


def load() -> None:
    fake = Faker("pt_BR")
    Faker.seed(2026)
    rng = random.Random(2026)  # noqa: S311 - repeatable demo data, not security
    users = {u.username: u for u in db.session.scalars(select(User))}
    owners = [users[name] for name in ("ana", "bruno", "gerente") if name in users]
    if not owners:
        return
    categories = [Category(name=name) for name in CATEGORIES]
    tags = [Tag(name=name, color=color) for name, color in TAGS]
    db.session.add_all(categories + tags)
    db.session.commit()

    contacts = []
    for index in range(ACCOUNTS):
        owner = owners[index % len(owners)]
        is_company = index % 6 != 5
        customer = index % 3 == 0
        trade_name = f"{fake.last_name()} {rng.choice(SECTORS)}"
        domain = _example_domain(fake)
        data = {
            "person_type": "PJ" if is_company else "PF",
            "legal_name": f"{trade_name} {rng.choice(SUFFIXES)}" if is_company else fake.name(),
            "trade_name": trade_name if is_company else None,
            "tax_id": fake.cnpj() if is_company else fake.cpf(),
            "lifecycle": "customer" if customer else "prospect",
            "state_registration": "ISENTO" if is_company else None,
            "owner_id": owner.id,
            "category_id": rng.choice(categories).id,
            "tag_ids": [t.id for t in rng.sample(tags, rng.randint(0, 2))],
            "priority": index % 7 == 0,
            "phone": _phone(fake, mobile=False),
            "email": f"contato{index}@{domain}",
            "website": f"www.{domain}" if is_company else None,
            "cep": fake.postcode(formatted=False),
            "street": fake.street_name(),
            "number": str(fake.building_number()),
            "district": fake.bairro(),
            "city": fake.city(),
            "state": fake.estado_sigla(),
        }
        account = create_account(data, user=owner, confirm_duplicates=True)
        for _n in range(rng.randint(1, 3)):
            person = create_contact({"name": fake.name(), "position": fake.job()[:120],
                                     "mobile": _phone(fake, mobile=True),
                                     "email": f"{fake.user_name()}@{domain}"},
                                    user=owner, account=account, role=rng.choice(ROLES))
            contacts.append((person, owner))
    # A few people work with two companies (seed 003: a contact cooperates with several).
    for person, _owner in contacts[::7]:
        account = db.session.scalars(
            select(Account).order_by(Account.id).offset(rng.randrange(ACCOUNTS))).first()
        link_contact(account, person, rng.choice(ROLES))
    load_pipeline(rng)


def load_pipeline(rng: random.Random) -> None:
    """Opportunities in every stage, won and lost ones with reasons, past and planned actions.

    Each one goes through the funnel stage by stage, through the real services; then its
    history is dated back over the past weeks (issue 17, point 8): a stay of a few days to a
    few weeks in each stage, won cycles of varied lengths, so the funnel report's days in
    stage and average cycle are figures, not zeros (:func:`_spread_over_weeks`)."""
    from datetime import date, timedelta

    ensure_defaults()
    stages = list(db.session.scalars(select(Stage).order_by(Stage.sequence)))
    reasons = list(db.session.scalars(select(LossReason)))
    # The company's service types (seed 002): the first four of its list, the default first.
    attendance = [t.id for t in service_types.choosable()][:4]
    users = {u.username: u for u in db.session.scalars(select(User))}
    manager = users.get("gerente")
    today = date.today()
    accounts = list(db.session.scalars(select(Account).order_by(Account.id)))
    created = []
    for index, account in enumerate(accounts):
        owner = account.owner
        contact_id = db.session.scalar(select(AccountContact.contact_id).where(
            AccountContact.account_id == account.id).limit(1))
        items = [{"description": name, "quantity": str(rng.randint(1, 10)), "unit_price": price}
                 for name, price in rng.sample(PRODUCTS, rng.randint(1, 3))]
        won, lost = index % 7 == 3, index % 7 == 5 and bool(reasons)
        # How far it went: a won deal went through every stage (or all but the last).
        reached = (len(stages) - 1 - rng.randint(0, 1)) if won else index % len(stages)
        opportunity = pipeline.create_opportunity({
            "title": SUBJECTS[index % len(SUBJECTS)], "account_id": account.id,
            "contact_id": contact_id, "stage_id": stages[0].id,
            "owner_id": owner.id, "items": items, "priority": index % 5 == 0,
            "contact_medium": rng.choice(("event", "website", "referral", "telemarketing")),
            "service_type_id": rng.choice(attendance) if attendance else None,
            "next_contact_user_id": owner.id,
            "next_contact_on": today + timedelta(days=rng.randint(-5, 20)),
            "internal_contact_user_id": manager.id if manager and index % 4 == 0 else None,
            "internal_contact_on": today + timedelta(days=3) if index % 4 == 0 else None,
            "expected_close_on": today + timedelta(days=rng.randint(10, 90)),
            "watcher_ids": [manager.id] if manager and index % 6 == 0 else [],
        }, user=owner)
        for stage in stages[1:reached + 1]:
            pipeline.move_to_stage(opportunity, stage.id, user=owner)
        create_action({"opportunity_id": opportunity.id, "kind": "call",
                       "at": (today - timedelta(days=rng.randint(1, 30))).isoformat(),
                       "contact_id": contact_id, "done": True,
                       "description": "Primeiro contato: apresentou interesse."}, user=owner)
        create_action({"opportunity_id": opportunity.id,
                       "kind": rng.choice(("meeting", "visit", "proposal", "task")),
                       "at": (today + timedelta(days=rng.randint(-3, 10))).isoformat(),
                       "contact_id": contact_id, "done": False,
                       "description": "Apresentar proposta atualizada."}, user=owner)
        if won:
            pipeline.mark_won(opportunity, user=owner)
        elif lost:
            pipeline.mark_lost(opportunity, user=owner,
                               loss_reason_id=rng.choice(reasons).id)
        created.append(opportunity.id)
    _spread_over_weeks(created, rng)


def _spread_over_weeks(opportunity_ids: list[int], rng: random.Random) -> None:
    """Date each opportunity's history back: its creation 1 to 16 weeks ago, each later
    stage or status row 2 to 20 days after the one before (never past now), and its own
    created_at, stage_entered_at, closed_at with them; then its funnel summary is
    recomputed from the dated history (funnel_summary.refresh: rows rewritten outside the
    session's objects)."""
    from datetime import timedelta

    from sqlalchemy import update

    from erp.db import utcnow

    from .models import Opportunity, OpportunityChange
    from .services import funnel_summary

    now = utcnow()
    change, table = OpportunityChange.__table__, Opportunity.__table__
    for opportunity_id in opportunity_ids:
        rows = db.session.execute(
            select(change.c.id, change.c.field).where(change.c.opportunity_id == opportunity_id)
            .order_by(change.c.at, change.c.id)).all()
        steps = [timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 23))
                 for _row in rows[1:]]
        at = now - timedelta(days=rng.randint(1, 14)) - sum(steps, timedelta())
        moments = {}
        for index, (change_id, _field) in enumerate(rows):
            if index:
                at = min(at + steps[index - 1], now)
            moments[change_id] = at
            db.session.execute(update(change).where(change.c.id == change_id).values(at=at))
        created_at = moments[rows[0][0]] if rows else now
        entered = max((moments[i] for i, field in rows if field in ("created", "stage")),
                      default=created_at)
        closed = max((moments[i] for i, field in rows if field == "status"), default=None)
        db.session.execute(update(table).where(table.c.id == opportunity_id).values(
            created_at=created_at, stage_entered_at=entered,
            closed_at=table.c.closed_at if closed is None else closed,
            updated_at=max(moments.values(), default=now)))
    funnel_summary.refresh(db.session.connection(), opportunity_ids)
    db.session.commit()


# --- the contract tests' records (erp.registry.ContractData) ---------------------------------


def contract_data(account: Account, user: User) -> None:
    """A contact, an opportunity (then won: pipeline events) and a done call on
    ``account``, as ``user``: something in each of CRM's tabs and timeline sources."""
    ensure_defaults()
    contact = create_contact({"name": "Contato do Contrato", "email": "contrato@example.com"},
                             user=user, account=account, role="Compras")
    opportunity = pipeline.create_opportunity({
        "title": "Contrato", "account_id": account.id, "contact_id": contact.id,
        "items": [{"description": "Licença", "quantity": "2", "unit_price": "100,00"}]},
        user=user)
    create_action({"opportunity_id": opportunity.id, "kind": "call", "done": True,
                   "contact_id": contact.id, "description": "Ligação do contrato."},
                  user=user)
    pipeline.mark_won(opportunity, user=user)


def contract_events(account: Account, user: User, count: int, at=None,
                    kind: str | None = None) -> None:
    """``count`` done actions of ``kind`` ("crm.call" unless said) in one insert, one
    second apart back from now, or all at ``at`` (ties)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from .models import AccountEvent, Action

    now = datetime.now(UTC).replace(microsecond=0)
    if (kind or "").startswith("crm.account_"):  # the account's own events ("merged"...)
        db.session.execute(insert(AccountEvent), [
            {"account_id": account.id, "kind": kind.removeprefix("crm.account_"),
             "at": at or now - timedelta(seconds=i), "user_id": user.id}
            for i in range(count)])
        db.session.commit()
        return
    db.session.execute(insert(Action), [
        {"account_id": account.id, "kind": (kind or "crm.call").removeprefix("crm."),
         "at": at or now - timedelta(seconds=i), "user_id": user.id,
         "description": f"#{i}", "done": True, "created_at": now, "updated_at": now}
        for i in range(count)])
    db.session.commit()


def contract_accounts(user: User | None) -> list[Account]:
    """The accounts ``user`` may see (every one for ``None``), by id."""
    from .services.scope import account_scope

    statement = select(Account).order_by(Account.id)
    if user is not None:
        statement = statement.where(account_scope(user))
    return list(db.session.scalars(statement))
