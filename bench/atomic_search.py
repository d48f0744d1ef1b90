"""Atomic search at scale: N accounts in a fresh database, then timed searches.

    .venv/bin/python bench/atomic_search.py [N] [--database-url URL]

Rows are inserted in bulk (not through the service: the point is the search),
with their search_text computed by the model, so the trigram index is the real one.
Prints the median and worst time of each query over several runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from faker import Faker
from sqlalchemy import insert

from erp import create_app
from erp.auth.models import User
from erp.auth.seed import ADMIN, ensure_default_roles
from erp.db import db

QUERIES = ["11.222.333/0001-81", "11222333", "(11) 98765-4321", "98765", "silva",
           "tecnologia ltda", "zz-nothing-zz", "contato@"]


def populate(count: int) -> User:
    from modules.crm.models import Account

    roles = ensure_default_roles()
    admin = User(username="bench", email="bench@example.com", name="Bench", roles=[roles[ADMIN]],
                 password_hash="!")  # noqa: S106 - no password: cannot log in
    db.session.add(admin)
    db.session.commit()
    fake = Faker("pt_BR")
    Faker.seed(1)
    batch = []
    for i in range(count):
        account = Account(legal_name=f"{fake.last_name()} {fake.company_suffix()} {i}",
                          trade_name=fake.last_name() + " Tecnologia", tax_id=f"{i:014d}",
                          phone=f"+55119{i % 100_000_000:08d}", email=f"c{i}@{fake.domain_name()}",
                          owner_id=admin.id)
        row = {c.key: getattr(account, c.key) for c in Account.__table__.columns
               if getattr(account, c.key) is not None}
        row["search_text"] = account.compute_search_text()
        row.update(person_type="PJ", lifecycle="prospect", priority=False, archived=False,
                   version=1)
        batch.append(row)
        if len(batch) == 5000:
            db.session.execute(insert(Account), batch)
            db.session.commit()
            batch = []
    if batch:
        db.session.execute(insert(Account), batch)
        db.session.commit()
    return admin


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=200_000)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    from modules.crm.services.search import search_accounts

    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        admin = populate(args.count)
        print(f"{args.count} accounts inserted in {time.perf_counter() - started:.1f} s "
              f"({db.engine.dialect.name})")
        for query in QUERIES:
            timings, found = [], 0
            for _ in range(args.runs):
                db.session.expire_all()
                started = time.perf_counter()
                found = len(search_accounts(query, admin, 20))
                timings.append((time.perf_counter() - started) * 1000)
            print(f"{query!r:24} {found:3d} found  median {statistics.median(timings):7.1f} ms"
                  f"  worst {max(timings):7.1f} ms")


if __name__ == "__main__":
    main()
