"""Demo CRM data: ~30 realistic Brazilian accounts with contacts, through the real services."""

from __future__ import annotations

import random

from faker import Faker
from sqlalchemy import select

from erp.auth.models import User
from erp.db import db

from .models import Account, Category, Tag
from .services.accounts import create_account
from .services.contacts import create_contact, link_contact
from .validation import ValidationError, normalize_phone

ACCOUNTS = 30
SECTORS = ("Alimentos", "Tecnologia", "Transportes", "Construções", "Distribuidora",
           "Metalúrgica", "Agropecuária", "Comércio de Peças", "Serviços Médicos", "Têxtil")
SUFFIXES = ("Ltda.", "S.A.", "Ltda. ME", "EIRELI")
CATEGORIES = ("Indústria", "Comércio", "Serviços", "Agronegócio")
TAGS = (("VIP", "#b02a37"), ("Indicação", "#198754"), ("Feira 2026", "#0d6efd"))
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
        surname = fake.last_name()
        data = {
            "person_type": "PJ" if is_company else "PF",
            "legal_name": (f"{surname} {rng.choice(SECTORS)} {rng.choice(SUFFIXES)}"
                           if is_company else fake.name()),
            "trade_name": f"{surname} {rng.choice(SECTORS)}" if is_company else None,
            "tax_id": fake.cnpj() if is_company else fake.cpf(),
            "lifecycle": "customer" if customer else "prospect",
            "state_registration": "ISENTO" if is_company else None,
            "owner_id": owner.id,
            "category_id": rng.choice(categories).id,
            "tag_ids": [t.id for t in rng.sample(tags, rng.randint(0, 2))],
            "priority": index % 7 == 0,
            "phone": _phone(fake, mobile=False),
            "email": f"contato{index}@{fake.domain_name()}",
            "website": f"www.{fake.domain_word()}.com.br" if is_company else None,
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
                                     "email": fake.free_email()},
                                    user=owner, account=account, role=rng.choice(ROLES))
            contacts.append((person, owner))
    # A few people work with two companies (seed 003: a contact cooperates with several).
    for person, _owner in contacts[::7]:
        account = db.session.scalars(
            select(Account).order_by(Account.id).offset(rng.randrange(ACCOUNTS))).first()
        link_contact(account, person, rng.choice(ROLES))
