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

Similar names (crm_duplicate_candidate, crm 0021): ``--similar`` pairs of accounts renamed
through the ORM to names one letter apart (each save finds its pairs at commit: timed per
account), and pairs of contacts of one account likewise; then the rebuild of every
account's pairs (``flask crm duplicates-rebuild``), timed, or of the first
``--rebuild-limit`` accounts, extrapolated to the table (said so in the output); the
scan timed from the first similar-name page and 20 pages into them, and its plan.
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


def _word(rng, n: int) -> str:
    letters = "bcdfghjklmnpqrstvwxz"
    return "".join(rng.choice(letters) + rng.choice("aeiou") for _ in range(4)) + f"{n}x"


def seed_similar(app, pairs: int) -> None:
    """``pairs`` pairs of accounts (and of contacts at one account) with names one letter
    apart, renamed through the ORM: each commit finds the renamed records' pairs."""
    from modules.crm.models import Account, AccountContact, Contact
    from modules.crm.models.duplicates import DuplicateCandidate

    with app.app_context():
        if db.session.scalar(select(db.func.count()).select_from(DuplicateCandidate)
                             .where(DuplicateCandidate.reason == "similar_name")) >= pairs:
            print("  similar names already seeded")
            return
        rng = random.Random(1818)  # noqa: S311 - test data, not secrets
        ids = rng.sample(db.session.scalars(select(Account.id)).all(), pairs * 2)
        started = time.perf_counter()
        for n in range(pairs):
            word = _word(rng, n).replace(f"{n}x", "")
            for account_id, name in ((ids[2 * n], f"{word}a Distribuidora Ltda"),
                                     (ids[2 * n + 1], f"{word}e Distribuidora")):
                db.session.get(Account, account_id).legal_name = name
                db.session.commit()
        elapsed = time.perf_counter() - started
        print(f"  {pairs * 2} accounts renamed to similar names, each committed: "
              f"{elapsed / (pairs * 2) * 1000:.1f} ms per save, with the worker's look-up")
        links = db.session.execute(select(AccountContact.account_id, AccountContact.contact_id)
                                   .limit(pairs)).all()
        started = time.perf_counter()
        for n, link in enumerate(links):
            word = _word(rng, n).replace(f"{n}x", "").capitalize()
            db.session.get(Contact, link.contact_id).name = f"{word} Souza"
            twin = Contact(name=f"{word} Souzaa", owner_id=db.session.get(
                Account, link.account_id).owner_id)
            db.session.add(twin)
            db.session.add(AccountContact(account_id=link.account_id, contact=twin))
            db.session.commit()
        elapsed = time.perf_counter() - started
        print(f"  {len(links)} contact pairs at one account: "
              f"{elapsed / max(len(links), 1) * 1000:.1f} ms per pair saved")
        db.session.remove()


def rebuild(app, limit: int | None) -> dict:
    """The rebuild of every account's (and contact's) pairs, or of the first ``limit``
    accounts, extrapolated."""
    from modules.crm.models import Account, Contact
    from modules.crm.services.duplicates import refresh_candidates

    out = {}
    with app.app_context():
        for record_kind, model in (("account", Account), ("contact", Contact)):
            total = db.session.scalar(select(db.func.count()).select_from(model))
            ids = db.session.scalars(select(model.id).order_by(model.id)
                                     .limit(limit or total)).all()
            started, written = time.perf_counter(), 0
            for start in range(0, len(ids), 500):
                written += refresh_candidates(record_kind, ids[start:start + 500])
                db.session.commit()
            elapsed = time.perf_counter() - started
            whole = elapsed * total / max(len(ids), 1)
            out[f"rebuild {record_kind}"] = {
                "records": len(ids), "of": total, "s": round(elapsed, 1),
                "pairs": written, "ms_per_record": round(elapsed / max(len(ids), 1) * 1000, 2),
                "whole_table_s" + ("" if len(ids) == total else " (extrapolated)"):
                    round(whole, 1)}
            print(f"  rebuild {record_kind}: {out[f'rebuild {record_kind}']}")
        db.session.remove()
    return out


def similar_cursor(record_kind: str) -> str:
    """A cursor at the first similar-name pair (the kinds before it read)."""
    from modules.crm.services.duplicates import _kinds, encode_cursor

    index = next(i for i, kind in enumerate(_kinds(record_kind)) if kind.candidates)
    return encode_cursor(index, "")


def deep_cursor(record_kind: str, user, pages: int = 20, cursor: str | None = None
                ) -> str | None:
    from modules.crm.services.duplicates import scan

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
                similar = similar_cursor(record_kind)
                cursors = {"first": None, "deep": deep_cursor(record_kind, user),
                           "similar": similar,
                           "similar deep": deep_cursor(record_kind, user, cursor=similar)}
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
            if kind.candidates:
                from modules.crm.services.duplicates import _candidates_select, _visible

                for role in ROLES:
                    user = db.session.scalar(select(User).where(User.username == role))
                    plan = query_plan(_candidates_select(
                        _model("account"), "account", (900, 10**6, 10**6),
                        _visible(_model("account"), user), 21))
                    results[f"plan similar {role}"] = plan.replace("\n", " | ")
                continue
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
    parser.add_argument("--similar", type=int, default=1000,
                        help="pairs of similar account names (and contact names) to make")
    parser.add_argument("--rebuild-limit", type=int, default=None,
                        help="rebuild the pairs of this many accounts only, extrapolated")
    parser.add_argument("--json")
    args = parser.parse_args()
    everything = {}
    for path in args.databases:
        print(path)
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                          # the similar-name look-up after each save runs here, timed
                          "TASKS_IMMEDIATE": True})
        upgrade(app)
        seed(app, args.groups)
        seed_similar(app, args.similar)
        built = rebuild(app, args.rebuild_limit)
        everything[path] = {**built, **measure(app, args.runs)}
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
