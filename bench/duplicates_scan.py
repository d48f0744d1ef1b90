"""The find-duplicates scan at scale (issue 18, point 1), in process.

    .venv/bin/python bench/duplicates_scan.py /tmp/me/s200k.sqlite3 [/tmp/me/s20k.sqlite3]
        [--groups 2000] [--runs 9] [--json out.json]

Works on COPIES of the scale databases (bench/scale_data.py's; it writes to them): brings
them to the newest schema (crm 0016 computes the name keys, counts the duplicate keys and
adds the triggers), then makes ``--groups`` groups of likely duplicates of each kind among
existing accounts and contacts (same e-mail, phone, name, CNPJ root; through UPDATEs, so
the triggers count them as any write does), spread over the owners, and times, for admin,
gerente (manager, team scope) and ana (rep: the service scopes, the page needs crm.manage),
the scan's first page and a deep page (the cursor after 20 pages) of accounts and contacts:
SQL in process (the service, median and p95 of ``--runs``), and the page over HTTP with the
test client, logged in. Each database's figures side by side: the 200K/20K ratio is the
growth. Also the plan of each kind's groups query (EXPLAIN QUERY PLAN).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from sqlalchemy import select, text

from erp import create_app
from erp.auth.models import User
from erp.db import db
from erp.demo import DEMO_PASSWORD

ROLES = ("admin", "gerente", "ana")


def _ms(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": round(statistics.median(ordered) * 1000, 1),
            "p95": round(p95 * 1000, 1)}


def upgrade(app) -> None:
    from erp.migrate import upgrade_all

    started = time.perf_counter()
    upgrade_all(app)
    print(f"  schema upgraded in {time.perf_counter() - started:.1f} s")


def seed(app, groups: int) -> None:
    """``groups`` groups per kind: pairs of existing rows given one key, by UPDATE."""
    from modules.crm.models.duplicates import name_key

    with app.app_context():
        conn = db.session.connection()
        if conn.execute(text("SELECT count(*) FROM crm_duplicate_key WHERE n > 1 "
                             "AND kind = 'account.email'")).scalar() >= groups:
            print("  already seeded")
            return
        rng = random.Random(18)  # noqa: S311 - test data, not secrets
        accounts = conn.execute(text("SELECT id, legal_name FROM crm_account")).all()
        contacts = [r.id for r in conn.execute(text("SELECT id FROM crm_contact")).all()]
        picked = rng.sample(accounts, min(len(accounts), groups * 8))
        started = time.perf_counter()
        for n in range(groups):
            a, b, c, d, e, f, g, h = picked[8 * n: 8 * n + 8]
            email = f"dup{n}@duplicado.com.br"
            conn.execute(text("UPDATE crm_account SET email = :e WHERE id IN (:a, :b)"),
                         {"e": email, "a": a.id, "b": b.id})
            phone = f"+55113{n:07d}"
            conn.execute(text("UPDATE crm_account SET phone = :p WHERE id = :a"),
                         {"p": phone, "a": c.id})
            conn.execute(text("UPDATE crm_account SET mobile = :p WHERE id = :a"),
                         {"p": phone, "a": d.id})
            name = f"Duplicada Número {n} Ltda"
            for row, shown in ((e, name), (f, name.upper() + " ME")):
                conn.execute(text("UPDATE crm_account SET legal_name = :n, name_key = :k "
                                  "WHERE id = :a"),
                             {"n": shown, "k": name_key(shown), "a": row.id})
            root = f"{90000000 + n:08d}"
            for branch, row in enumerate((g, h), start=1):
                conn.execute(text("UPDATE crm_account SET tax_id = :t, tax_id_root = :r "
                                  "WHERE id = :a"),
                             {"t": f"{root}{branch:04d}00", "r": root, "a": row.id})
        for n in range(groups):
            x, y = rng.sample(contacts, 2)
            conn.execute(text("UPDATE crm_contact SET email = :e WHERE id IN (:x, :y)"),
                         {"e": f"pessoa{n}@duplicado.com.br", "x": x, "y": y})
        db.session.commit()
        conn = db.session.connection()
        conn.execute(text("ANALYZE"))
        db.session.commit()
        print(f"  seeded {groups} groups per kind in {time.perf_counter() - started:.1f} s")


def deep_cursor(record_kind: str, user, pages: int = 20) -> str | None:
    from modules.crm.services.duplicates import scan

    cursor = None
    for _ in range(pages):
        page = scan(record_kind, user, cursor)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return cursor


def measure(app, runs: int) -> dict:
    from modules.crm.services.duplicates import _groups_select, _kinds, _model, scan
    from tests.crm.plans import query_plan

    results = {}
    with app.app_context():
        for role in ROLES:
            user = db.session.scalar(select(User).where(User.username == role))
            for record_kind in ("account", "contact"):
                cursors = {"first": None, "deep": deep_cursor(record_kind, user)}
                for label, cursor in cursors.items():
                    samples, pairs = [], 0
                    for _ in range(runs):
                        db.session.remove()
                        user = db.session.get(User, user.id)
                        started = time.perf_counter()
                        page = scan(record_kind, user, cursor)
                        samples.append(time.perf_counter() - started)
                        pairs = len(page.pairs)
                    results[f"sql {record_kind} {label} {role}"] = {**_ms(samples),
                                                                    "pairs": pairs}
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        for kind in _kinds("account"):
            plan = query_plan(_groups_select(_model("account"), kind, None, admin, 21))
            results[f"plan {kind.key}"] = plan.replace("\n", " | ")
        db.session.remove()
    for role in ROLES:
        client = app.test_client()
        login = client.post("/auth/login", data={"login": role, "password": DEMO_PASSWORD})
        assert login.status_code in (302, 303), (role, login.status_code)
        for record_kind in ("account", "contact"):
            samples, status = [], None
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(f"/crm/duplicates/{record_kind}")
                samples.append(time.perf_counter() - started)
                status = response.status_code
            results[f"http {record_kind} first {role}"] = {**_ms(samples), "status": status}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("databases", nargs="+", help="copies of the scale databases")
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json")
    args = parser.parse_args()
    everything = {}
    for path in args.databases:
        print(path)
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        upgrade(app)
        seed(app, args.groups)
        everything[path] = measure(app, args.runs)
    names = list(everything)
    keys = list(everything[names[0]])
    for key in keys:
        row = [key]
        for name in names:
            value = everything[name].get(key)
            row.append(json.dumps(value, ensure_ascii=False) if not isinstance(value, str)
                       else value)
        first, second = (everything[name].get(key) for name in names[:2]) if len(
            names) == 2 else (None, None)
        if isinstance(first, dict) and isinstance(second, dict) and second.get("median"):
            row.append(f"ratio {first['median'] / second['median']:.2f}")
        print("  ".join(row))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(everything, out, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
