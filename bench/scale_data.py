"""The dataset of issue 15, generated in bulk: accounts, contacts, opportunities, events,
and one "whale" account with a long history, quotes, invoices and receivables.

    .venv/bin/python bench/scale_data.py [--accounts 200000] [--events 1000000]
        [--whale 100000] [--whale-docs 2000] [--database-url URL]

The schema is the app's own (``upgrade_database``, as ``flask setup`` does), then the demo
data (its users admin / gerente / ana / bruno, password ``demo1234``, its stages, tags and
records), then the rows below through SQLAlchemy Core ``executemany`` in batches of 5,000
straight into the models' tables. Accounts and contacts get the ``search_text`` their models
compute, so the trigram index (FTS5 triggers on SQLite, the GIN index on PostgreSQL) is the
real one; on SQLite the FTS tables are rebuilt from the content tables at the end, as a
check that the index matches. Then ``ANALYZE``.

Without ``--database-url`` the instance's database (``ERP_DATABASE_URL`` or instance/) is
used. Refuses a database that already has more accounts than the demo's (use a new file).
Prints ``whale=<id> ordinary=<id>``: the ids the timing client compares.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from erp import create_app  # noqa: E402
from erp.auth.models import User  # noqa: E402
from erp.db import db  # noqa: E402

BATCH = 5_000
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
WHALE_NAME = "Baleia Comércio e Indústria S.A."
SURNAMES = ("Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
            "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes",
            "Soares", "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade")
FIRST = ("Ana", "João", "Maria", "José", "Paulo", "Carla", "Pedro", "Lucas", "Juliana", "Marcos",
         "Fernanda", "Rafael", "Patrícia", "Bruno", "Camila", "Gustavo")
SECTORS = ("Alimentos", "Tecnologia", "Transportes", "Construções", "Distribuidora",
           "Metalúrgica", "Agropecuária", "Comércio de Peças", "Serviços Médicos", "Têxtil")
SUFFIXES = ("Ltda.", "S.A.", "Ltda. ME", "EIRELI")
CITIES = (("São Paulo", "SP"), ("Campinas", "SP"), ("Rio de Janeiro", "RJ"),
          ("Belo Horizonte", "MG"), ("Curitiba", "PR"), ("Porto Alegre", "RS"),
          ("Salvador", "BA"), ("Recife", "PE"))
KINDS = ("call", "email", "meeting", "visit", "note")


def _check_digit(digits: str, weights: list[int]) -> str:
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "0" if remainder < 2 else str(11 - remainder)


def cnpj(n: int) -> str:
    """A valid CNPJ for the number ``n``: root n (8 digits), branch 0001, check digits."""
    base = f"{n % 100_000_000:08d}0001"
    first = _check_digit(base, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    second = _check_digit(base + first, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    return base + first + second


def cpf(n: int) -> str:
    base = f"{(n * 7919 + 100_000_000) % 1_000_000_000:09d}"
    first = _check_digit(base, list(range(10, 1, -1)))
    second = _check_digit(base + first, list(range(11, 1, -1)))
    return base + first + second


def _filler(column):
    """A value for a NOT NULL column without default that the generator does not set."""
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return T0
    if isinstance(kind, Date):
        return T0.date()
    if isinstance(kind, Integer):
        return 0
    if isinstance(kind, Numeric):
        return Decimal("0")
    return ""


class Writer:
    """Rows into one table in batches; NOT NULL columns nobody set get a neutral value."""

    def __init__(self, model):
        self.table = model.__table__
        self.rows: list[dict] = []
        self.count = 0

    def add(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        keys = set().union(*self.rows)
        missing = [c for c in self.table.columns
                   if c.key not in keys and not c.nullable and not c.primary_key
                   and c.default is None and c.server_default is None]
        for row in self.rows:
            for column in missing:
                row[column.key] = _filler(column)
        db.session.execute(insert(self.table), self.rows)
        db.session.commit()
        self.count += len(self.rows)
        self.rows = []


def next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def generate(accounts: int, events: int, whale_events: int, whale_docs: int,
             seed: int = 15, log=print) -> dict:
    """Fill the current app's database; returns the counts and the whale's id."""
    from modules.crm.models import Account, AccountContact, Action, Contact, Opportunity, Stage
    from modules.finance.models import Receivable
    from modules.sales.models import Invoice, Order, Quote

    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    users = {u.username: u for u in db.session.scalars(select(User))}
    owners = [users[name].id for name in ("ana", "ana", "ana", "bruno", "bruno", "bruno",
                                          "gerente", "gerente", "admin", "admin")]
    admin = users["admin"].id
    rep = users["ana"].id  # the whale's owner: admin, her manager and she all see it
    stages = list(db.session.scalars(select(Stage.id).order_by(Stage.sequence)))
    started = time.perf_counter()

    # Accounts: the whale first, then the others; 1 in 10 a person (CPF).
    first_account = next_id(Account)
    writer = Writer(Account)
    for i in range(accounts):
        city, state = CITIES[i % len(CITIES)]
        surname = SURNAMES[rng.randrange(len(SURNAMES))]
        person = i % 10 == 9
        if i == 0:
            legal, trade, tax_id, person = WHALE_NAME, "Baleia", cnpj(99_999_999), False
        elif person:
            legal = f"{FIRST[i % len(FIRST)]} {surname} {SURNAMES[(i // 7) % len(SURNAMES)]}"
            trade, tax_id = None, cpf(i)
        else:
            legal = (f"{surname} {SECTORS[i % len(SECTORS)]} {SUFFIXES[i % len(SUFFIXES)]}"
                     f" {i}")
            trade, tax_id = f"{surname} {SECTORS[(i // 3) % len(SECTORS)]}", cnpj(i)
        account = Account(
            person_type="PF" if person else "PJ", legal_name=legal, trade_name=trade,
            tax_id=tax_id, tax_id_root=None if person else tax_id[:8],
            phone=f"+551{1 + i % 9}3{i % 10_000_000:07d}",
            mobile=f"+551{1 + i % 9}9{(i * 37) % 100_000_000:08d}" if i % 3 == 0 else None,
            email=f"contato{i}@{surname.lower()}{i % 1000}.com.br", city=city, state=state)
        changed = T0 - timedelta(minutes=(accounts - i) * 3)
        writer.add({
            "person_type": account.person_type, "legal_name": legal, "trade_name": trade,
            "tax_id": tax_id, "tax_id_root": account.tax_id_root, "phone": account.phone,
            "mobile": account.mobile, "email": account.email, "city": city, "state": state,
            "owner_id": rep if i == 0 else owners[i % len(owners)],
            "lifecycle": "customer" if i % 4 == 0 else "prospect", "priority": i % 50 == 0,
            "archived": i % 100 == 99, "search_text": account.compute_search_text(),
            "version": 1, "created_at": changed, "updated_at": changed})
    writer.flush()
    whale = first_account
    ids = range(first_account, first_account + accounts)
    log(f"accounts: {writer.count} ({time.perf_counter() - started:.0f} s)")

    # Contacts: one for every second account, the whale's 300 (or fewer at tiny sizes).
    whale_contacts = min(300, max(1, accounts // 2))
    count = max(accounts // 2, whale_contacts)
    first_contact = next_id(Contact)
    contacts, links = Writer(Contact), Writer(AccountContact)
    for j in range(count):
        name = f"{FIRST[j % len(FIRST)]} {SURNAMES[(j * 7) % len(SURNAMES)]} {j}"
        contact = Contact(name=name, phone=f"+552{1 + j % 9}3{j % 10_000_000:07d}",
                          email=f"pessoa{j}@exemplo.com.br")
        account_id = whale if j < whale_contacts else ids[(j * 2) % accounts]
        contacts.add({"name": name, "phone": contact.phone, "email": contact.email,
                      "position": "Compras", "owner_id": owners[j % len(owners)],
                      "archived": False, "search_text": contact.compute_search_text(),
                      "version": 1, "created_at": T0, "updated_at": T0})
        links.add({"account_id": account_id, "contact_id": first_contact + j,
                   "role": "Compras", "created_at": T0})
    contacts.flush()
    links.flush()
    log(f"contacts: {contacts.count} ({time.perf_counter() - started:.0f} s)")

    # Opportunities: one for every fourth account, spread over the stages.
    opportunities = Writer(Opportunity)
    for k in range(max(1, accounts // 4)):
        account_id = ids[(k * 4) % accounts]
        created = T0 - timedelta(hours=k % 5000)
        status = ("open", "open", "open", "won", "lost")[k % 5]
        opportunities.add({
            "title": f"Oportunidade {k}", "account_id": account_id,
            "stage_id": stages[k % len(stages)], "owner_id": owners[k % len(owners)],
            "status": status, "estimated_value": Decimal(1000 + k % 90_000),
            "priority": False, "archived": False, "stage_entered_at": created,
            "closed_at": None if status == "open" else created + timedelta(days=3),
            "version": 1, "created_at": created, "updated_at": created})
    opportunities.flush()
    log(f"opportunities: {opportunities.count} ({time.perf_counter() - started:.0f} s)")

    # Events: the whale's history (minute by minute into the past, 2.7% planned in the
    # future), then the rest over random accounts.
    actions = Writer(Action)
    whale_events = min(whale_events, events)
    for n in range(events):
        if n < whale_events:
            account_id, owner = whale, rep
            future = n % 37 == 0
            at = T0 + timedelta(hours=n % 2000 + 1) if future else T0 - timedelta(minutes=n)
        else:
            account_id = ids[rng.randrange(1, accounts)] if accounts > 1 else whale
            owner = owners[account_id % len(owners)]
            future = n % 50 == 0
            at = T0 + timedelta(days=n % 90 + 1) if future else T0 - timedelta(minutes=n * 3)
        actions.add({"account_id": account_id, "kind": KINDS[n % len(KINDS)], "at": at,
                     "user_id": owner, "description": f"Evento {n}", "done": not future,
                     "archived": False, "created_at": min(at, T0), "updated_at": min(at, T0)})
    actions.flush()
    log(f"events: {actions.count} ({time.perf_counter() - started:.0f} s)")

    # The whale's documents: quotes, orders with an invoice each (a quarter), receivables.
    quotes, orders, invoices = Writer(Quote), Writer(Order), Writer(Invoice)
    base = 900_000
    for q in range(whale_docs):
        created = T0 - timedelta(days=q % 700)
        quotes.add({"number": base + q, "account_id": whale, "user_id": admin,
                    "status": ("draft", "sent", "accepted", "refused")[q % 4],
                    "valid_until": created.date() + timedelta(days=30),
                    "total": Decimal(500 + q), "created_at": created, "updated_at": created})
    quotes.flush()
    invoice_count = max(1, whale_docs // 4)
    first_order = next_id(Order)
    for o in range(invoice_count):
        day = (T0 - timedelta(days=o % 700)).date()
        orders.add({"number": base + o, "account_id": whale, "user_id": admin,
                    "status": "delivered", "order_date": day, "total": Decimal(800 + o),
                    "created_at": T0, "updated_at": T0})
        invoices.add({"number": base + o, "account_id": whale, "order_id": first_order + o,
                      "user_id": admin, "status": "issued", "issue_date": day,
                      "total": Decimal(800 + o), "created_at": T0, "updated_at": T0})
    orders.flush()
    invoices.flush()
    receivables = Writer(Receivable)
    others = max(0, accounts // 40)
    for r in range(whale_docs + others):
        account_id = (whale if r < whale_docs or accounts == 1
                      else ids[rng.randrange(1, accounts)])
        issued = (T0 - timedelta(days=r % 400)).date()
        receivables.add({"account_id": account_id, "document": f"NF {base + r}",
                         "origin": "manual", "issue_date": issued,
                         "due_date": issued + timedelta(days=30),
                         "amount": Decimal(100 + r % 5000), "installment": 1,
                         "installments": 1, "cancelled": False, "created_at": T0,
                         "created_by_id": admin})
    receivables.flush()
    log(f"whale documents: {quotes.count} quotes, {invoices.count} invoices, "
        f"{receivables.count} receivables ({time.perf_counter() - started:.0f} s)")

    refresh_statistics()
    log(f"search index rebuilt, ANALYZE done ({time.perf_counter() - started:.0f} s)")
    ordinary = ids[accounts // 2] if accounts > 1 else whale
    return {"whale": whale, "ordinary": ordinary, "accounts": writer.count,
            "contacts": contacts.count, "opportunities": opportunities.count,
            "events": actions.count, "quotes": quotes.count, "invoices": invoices.count,
            "receivables": receivables.count}


def refresh_statistics() -> None:
    """Rebuild the FTS tables from their content (SQLite), then planner statistics."""
    if db.engine.dialect.name == "sqlite":
        for table in ("crm_account", "crm_contact"):
            if db.session.scalar(text(
                    "SELECT count(*) FROM sqlite_master WHERE name = :n"), {"n": f"{table}_fts"}):
                rebuild = f"INSERT INTO {table}_fts({table}_fts) VALUES ('rebuild')"  # noqa: S608
                db.session.execute(text(rebuild))
        db.session.commit()
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    else:
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def prepare(url: str | None, config: dict | None = None):
    """The app on ``url`` (or the instance's database), schema upgraded, demo data in."""
    from erp.demo import database_is_empty, load_demo
    from erp.setup import upgrade_database

    config = dict(config or {})
    if url:
        config["SQLALCHEMY_DATABASE_URI"] = url
    app = create_app(config or None)
    upgrade_database(app)
    with app.app_context():
        if database_is_empty():
            load_demo()
    return app


def account_count() -> int:
    from modules.crm.models import Account

    return db.session.scalar(select(func.count(Account.id)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--whale", type=int, default=100_000, help="the whale's events")
    parser.add_argument("--whale-docs", type=int, default=2_000,
                        help="the whale's quotes and receivables (a quarter as invoices)")
    parser.add_argument("--database-url", help="default: the instance's database")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--if-empty", action="store_true",
                        help="a database with data already is kept as it is (exit 0)")
    args = parser.parse_args()
    app = prepare(args.database_url)
    with app.app_context():
        existing = account_count()
        if existing > 100:
            if args.if_empty:
                print(f"{existing} accounts already in {db.engine.url!r}: kept")
                return
            sys.exit(f"{existing} accounts already in {db.engine.url!r}: use an empty database")
        started = time.perf_counter()
        result = generate(args.accounts, args.events, args.whale, args.whale_docs, args.seed)
        print(f"generated in {time.perf_counter() - started:.0f} s ({db.engine.dialect.name}): "
              + ", ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
