"""Every page and API list of issue 15 over HTTP, against gunicorn on a generated database.

    .venv/bin/python bench/scale_pages.py [--database-url URL] [--runs 30] [--json out.json]
        [--throughput-seconds 30] [--clients 8] [--workers 2] [--client http|requests]
        [--compare-url URL2]

Starts gunicorn (``erp.serve``'s command line, 2 sync workers) on the database that
``bench/scale_data.py`` filled, logs in as admin, the manager (gerente) and a rep (ana), each
also with an API token, warms every URL up, then requests them round-robin: run 1 asks every
(page, role) once, then run 2, ... so the two sides of each ratio (whale / ordinary account
page, deep / first list page) are measured side by side under the same load. Prints one
table (median, p95, size, HTTP status) and the ratios, and with ``--json`` writes them.

Then a bounded throughput run: ``--clients`` threads for ``--throughput-seconds`` each on a
mix of fast pages (account pages, search, lists), as admin; then the same with one request in
five on a report or a searched list, reporting req/s, errors and the fast pages' p95. The
client shares the machine with the server, so it is the cheapest honest one: one
``http.client`` connection per thread (reopened when the sync worker closes it), the session
cookie sent by hand; the CPU each request cost the client and the server (gunicorn's
processes, from /proc) is reported beside the rate. ``--client requests`` measures with a
``requests.Session`` per thread instead (what the timing table uses), for comparison.

``--compare-url URL2`` serves a second database (e.g. the 20K one for the 200K/20K growth)
with a second gunicorn and times every page on both, interleaved (each page and role: A,
then B), adding B's median and p95 and the ratio median A / median B to each row. The pages
are paired by position in :func:`pages` (ids and the deep page number come from each
database's own facts). The throughput runs are on A only.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from erp import create_app  # noqa: E402
from erp.auth.models import User  # noqa: E402
from erp.db import db  # noqa: E402
from erp.demo import DEMO_PASSWORD  # noqa: E402
from erp.serve import commands  # noqa: E402

ROLES = (("admin", "admin"), ("manager", "gerente"), ("rep", "ana"))
PAGE_SIZE = 25


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def facts(app) -> dict:
    """The ids and values the URLs need, and one API token per role (made for this run)."""
    from erp.api.tokens import create_token
    from erp.paging import encode_cursor
    from modules.crm.models import Account, Contact
    from modules.crm.views.accounts import SORTS as ACCOUNT_SORTS

    with app.app_context():
        whale = db.session.scalar(select(Account.id).where(
            Account.legal_name.like("Baleia%")).order_by(Account.id).limit(1))
        count = db.session.scalar(select(func.count(Account.id)))
        # The ordinary account and the deep page are the rep's too: every role sees them.
        rep = db.session.scalar(select(User.id).where(User.username == ROLES[2][1]))
        mine = select(Account.id).where(Account.owner_id == rep, Account.archived.is_(False))
        rep_count = db.session.scalar(select(func.count()).select_from(mine.subquery()))
        ordinary = db.session.scalar(mine.where(Account.id != whale).order_by(Account.id)
                                     .offset(max(0, rep_count // 2 - 1)).limit(1))
        sample = db.session.execute(select(Account.tax_id, Account.phone)
                                    .where(Account.id == ordinary)).one()
        contact_phone = db.session.scalar(select(Contact.phone).where(Contact.phone.isnot(None))
                                          .order_by(Contact.id.desc()).limit(1))
        # The deep page is reached as the list's Next link reaches it (keyset paging, issue
        # 15): after the last row of page deep - 1 of the rep's accounts by name (~50,000
        # rows in at 200K), as the list's cursor.
        deep = max(2, min(2000, rep_count // PAGE_SIZE))
        before_deep = db.session.scalar(
            select(Account).where(Account.owner_id == rep, Account.archived.is_(False))
            .order_by(Account.legal_name, Account.id)
            .offset((deep - 1) * PAGE_SIZE - 1).limit(1))
        deep_cursor = encode_cursor(ACCOUNT_SORTS["name"], before_deep) if before_deep else ""
        tokens = {}
        for role, username in ROLES:
            user = db.session.scalar(select(User).where(User.username == username))
            tokens[role] = create_token(user, f"bench {secrets.token_hex(4)}")[1]
    return {"whale": whale or ordinary, "ordinary": ordinary, "accounts": count,
            "deep": deep, "deep_cursor": deep_cursor,
            "cnpj": sample.tax_id or "", "phone": (sample.phone or "")[-8:],
            "contact_phone": (contact_phone or "")[-8:], "tokens": tokens}


def pages(f: dict) -> list[tuple[str, str, str]]:
    """(name, kind, path): kind "html" (session cookie) or "api" (bearer token)."""
    deep = f["deep"]
    w, o = f["whale"], f["ordinary"]
    return [
        ("home", "html", "/"),
        ("search silva", "html", "/search?q=silva"),
        ("search phone", "html", f"/search?q={f['phone']}"),
        ("search no match", "html", "/search?q=zzqx-nada"),
        ("accounts list", "html", "/crm/accounts"),
        ("accounts list page 1", "html", "/crm/accounts?page=1"),
        (f"accounts list page {deep}", "html", f"/crm/accounts?after={f['deep_cursor']}"),
        ("accounts ?q=<CNPJ>", "html", f"/crm/accounts?q={f['cnpj']}"),
        ("accounts ?q=silva", "html", "/crm/accounts?q=silva"),
        ("accounts sort=-updated", "html", "/crm/accounts?sort=-updated"),
        ("account page ordinary", "html", f"/crm/accounts/{o}"),
        ("account page whale", "html", f"/crm/accounts/{w}"),
        ("whale timeline tab", "html", f"/crm/accounts/{w}/tabs/timeline"),
        ("whale contacts tab", "html", f"/crm/accounts/{w}/tabs/contacts"),
        ("whale contacts count", "html", f"/crm/accounts/{w}/tabs/contacts/count"),
        ("whale sales tab", "html", f"/crm/accounts/{w}/tabs/sales"),
        ("whale finance tab", "html", f"/crm/accounts/{w}/tabs/finance"),
        ("contacts list", "html", "/crm/contacts"),
        ("opportunities list", "html", "/crm/opportunities"),
        ("funnel (kanban)", "html", "/crm/funnel"),
        ("agenda", "html", "/crm/agenda"),
        ("funnel report", "html", "/crm/reports/funnel"),
        ("actions report", "html", "/crm/reports/actions"),
        ("losses report", "html", "/crm/reports/losses"),
        ("aging report", "html", "/finance/reports/aging"),
        ("receivables list", "html", "/finance/"),
        ("sales quotes", "html", "/sales/quotes"),
        ("sales orders", "html", "/sales/orders"),
        ("sales invoices", "html", "/sales/invoices"),
        ("API actions", "api", "/api/v1/actions?limit=50"),
        ("API accounts", "api", "/api/v1/accounts"),
        ("API accounts ?q=silva", "api", "/api/v1/accounts?q=silva"),
        ("API contacts", "api", "/api/v1/contacts"),
        ("API opportunities", "api", "/api/v1/opportunities"),
    ]


RATIOS = (("account page whale", "account page ordinary"),
          ("accounts list page {deep}", "accounts list page 1"))


class Server:
    """gunicorn on ``url`` in its own process group; stopped (SIGTERM, then kill) on exit."""

    def __init__(self, url: str, port: int, workers: int, folder: Path):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
        env.update({"ERP_DATABASE_URL": url, "ERP_SECRET_KEY": secrets.token_hex(16),
                    "ERP_API_RATE_LIMIT": "1000000 per minute",
                    "ERP_TASKS_FILE": str(folder / "tasks.sqlite3"),
                    "ERP_IMPORT_FOLDER": str(folder / "imports")})
        self.log = folder / "gunicorn.log"
        self.base = f"http://127.0.0.1:{port}"
        web = commands("127.0.0.1", port, workers, dev=False)[0]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(web,  # noqa: S603 - our own command line
                                            env=env, stdout=subprocess.DEVNULL, stderr=log,
                                            start_new_session=True)

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: see {self.log}")
            try:
                if requests.get(self.base + "/auth/login", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit(f"gunicorn did not answer in {timeout} s: see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.stop()


def login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/auth/login", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    response = session.post(base + "/auth/login", timeout=30, data={
        "csrf_token": token.group(1) if token else "", "login": username,
        "password": DEMO_PASSWORD, "next": ""})
    if response.status_code != 200 or "/auth/login" in response.url:
        raise SystemExit(f"cannot log in as {username}: HTTP {response.status_code}")
    return session


def fetch(session: requests.Session, base: str, kind: str, path: str, token: str):
    headers = {"Authorization": f"Bearer {token}"} if kind == "api" else {}
    started = time.perf_counter()
    response = session.get(base + path, headers=headers, timeout=120, allow_redirects=False)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, response.status_code, len(response.content)


def time_pages(base: str, f: dict, runs: int, warmup: int, log=print,
               other: tuple[str, dict] | None = None) -> list[dict]:
    """Every (page, role) ``runs`` times, round-robin. With ``other`` (the base URL and facts
    of a second server), each request to ``base`` is followed by the same page and role on
    the other one, and each row gets B's median and p95 and the ratio of the medians."""
    targets = [(base, f)] + ([other] if other else [])
    sessions = [{role: login(b, username) for role, username in ROLES} for b, _f in targets]
    urls = [pages(facts_) for _b, facts_ in targets]
    if len({len(u) for u in urls}) != 1:
        raise SystemExit("the two databases give different page lists")
    samples: dict[tuple[int, str, int], list[float]] = {}
    info: dict[tuple[int, str, int], tuple[int, int, str]] = {}
    for run in range(warmup + runs):
        for index in range(len(urls[0])):
            for role, _username in ROLES:
                for side, (b, facts_) in enumerate(targets):
                    _name, kind, path = urls[side][index]
                    elapsed, status, size = fetch(sessions[side][role], b, kind, path,
                                                  facts_["tokens"][role])
                    info[index, role, side] = (status, size, path)
                    if run >= warmup:
                        samples.setdefault((index, role, side), []).append(elapsed)
        if run == warmup - 1 or (run >= warmup and (run - warmup + 1) % 10 == 0):
            log(f"  {'warm-up done' if run < warmup else f'run {run - warmup + 1}/{runs}'}")
    rows = []
    for (index, role, side), values in samples.items():
        if side:
            continue
        status, size, path = info[index, role, 0]
        row = {"page": urls[0][index][0], "role": role, "path": path, "status": status,
               "median_ms": round(statistics.median(values), 1),
               "p95_ms": round(percentile(values, 0.95), 1),
               "kb": round(size / 1024, 1), "n": len(values)}
        if other:
            values_b = samples[index, role, 1]
            status_b, size_b, path_b = info[index, role, 1]
            median_b = statistics.median(values_b)
            row.update({"path_b": path_b, "status_b": status_b,
                        "median_b_ms": round(median_b, 1),
                        "p95_b_ms": round(percentile(values_b, 0.95), 1),
                        "kb_b": round(size_b / 1024, 1),
                        "ratio": round(statistics.median(values) / median_b, 2)
                        if median_b else None})
        rows.append(row)
    return rows


def ratios(rows: list[dict], f: dict) -> list[dict]:
    deep = f["deep"]
    medians = {(r["page"], r["role"]): r["median_ms"] for r in rows if r["status"] < 400}
    out = []
    for a, b in RATIOS:
        a, b = a.format(deep=deep), b.format(deep=deep)
        for role, _username in ROLES:
            if medians.get((b, role)) and (a, role) in medians:
                out.append({"ratio": f"{a} / {b}", "role": role,
                            "value": round(medians[a, role] / medians[b, role], 2)})
    return out


FAST = ("/crm/accounts/{ordinary}", "/crm/accounts/{whale}", "/search?q=silva",
        "/crm/accounts", "/crm/contacts", "/crm/opportunities", "/", "/sales/quotes")
SLOW = ("/crm/reports/funnel", "/crm/reports/actions", "/finance/reports/aging",
        "/crm/accounts?q=silva", "/crm/accounts?sort=-updated")


class Connection:
    """The cheapest honest client for the throughput run: one ``http.client`` connection
    (kept alive when the server allows it, else reopened for the next request), the
    session's cookies sent by hand and updated from ``Set-Cookie``; bodies read in full."""

    def __init__(self, base: str, session: requests.Session):
        url = urlsplit(base)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        self.cookies = session.cookies.get_dict()

    def get(self, path: str) -> tuple[float, int, int]:
        started = time.perf_counter()
        try:
            self.connection.request("GET", path, headers={
                "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())})
            response = self.connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise
        elapsed = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in header.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        return elapsed, response.status, len(body)


def process_cpu_seconds(root: int) -> float | None:
    """CPU time (user + system) of process ``root`` and its children, from /proc (Linux);
    None elsewhere."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()  # after "pid (comm) "
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == root or ppid == root:
            total += int(fields[11]) + int(fields[12])  # utime, stime
            found = True
    return total / tick if found else None


def throughput(base: str, f: dict, seconds: float, clients: int, slow_share: float,
               client_kind: str = "http", server_pid: int | None = None) -> dict:
    """``clients`` threads, each its own admin session, for ``seconds``: req/s, errors, p95,
    and the CPU milliseconds per request spent by this client and by the server."""
    fast = [p.format(**f) for p in FAST]
    slow = [p.format(**f) for p in SLOW]
    lock = threading.Lock()
    fast_times: list[float] = []
    counts = {"requests": 0, "errors": 0}
    sessions = [login(base, "admin") for _ in range(clients)]
    if client_kind == "http":
        getters = [Connection(base, session).get for session in sessions]
    else:
        getters = [lambda path, s=session: fetch(s, base, "html", path, "")
                   for session in sessions]
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)  # noqa: S311 - a request mix, not secrets
        get = getters[number]
        while time.monotonic() < stop_at:
            is_slow = rng.random() < slow_share
            path = rng.choice(slow if is_slow else fast)
            try:
                elapsed, status, _size = get(path)
                error = status >= 400
            except (OSError, http.client.HTTPException, requests.RequestException):
                elapsed, error = 0.0, True
            with lock:
                counts["requests"] += 1
                counts["errors"] += error
                if not is_slow and not error:
                    fast_times.append(elapsed)

    server_cpu = process_cpu_seconds(server_pid) if server_pid else None
    client_cpu = time.process_time()
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    client_cpu = time.process_time() - client_cpu
    if server_cpu is not None:
        server_cpu = (process_cpu_seconds(server_pid) or 0) - server_cpu
    done = max(1, counts["requests"])
    return {"slow_share": slow_share, "clients": clients, "client": client_kind,
            "seconds": round(wall, 1),
            "requests": counts["requests"], "errors": counts["errors"],
            "req_per_s": round(counts["requests"] / wall, 1),
            "fast_median_ms": round(statistics.median(fast_times), 1) if fast_times else None,
            "fast_p95_ms": round(percentile(fast_times, 0.95), 1) if fast_times else None,
            "client_cpu_ms_per_request": round(client_cpu * 1000 / done, 2),
            "server_cpu_ms_per_request": round(server_cpu * 1000 / done, 2)
            if server_cpu is not None else None}


def markdown(rows: list[dict], ratio_rows: list[dict], runs: list[dict]) -> str:
    if rows and "ratio" in rows[0]:  # --compare-url: B's figures and the ratio A / B
        lines = ["| page | role | median ms | p95 ms | KB | HTTP | B median ms | B p95 ms "
                 "| B HTTP | ratio A/B |", "|---|---|---:|---:|---:|---|---:|---:|---|---:|"]
        lines += [f"| {r['page']} | {r['role']} | {r['median_ms']} | {r['p95_ms']} "
                  f"| {r['kb']} | {r['status']} | {r['median_b_ms']} | {r['p95_b_ms']} "
                  f"| {r['status_b']} | {r['ratio']} |" for r in rows]
    else:
        lines = ["| page | role | median ms | p95 ms | KB | HTTP |",
                 "|---|---|---:|---:|---:|---|"]
        lines += [f"| {r['page']} | {r['role']} | {r['median_ms']} | {r['p95_ms']} "
                  f"| {r['kb']} | {r['status']} |" for r in rows]
    if ratio_rows:
        lines += ["", "| ratio | role | value |", "|---|---|---:|"]
        lines += [f"| {r['ratio']} | {r['role']} | {r['value']} |" for r in ratio_rows]
    if runs:
        lines += ["", "| throughput mix | client | clients | s | requests | req/s | errors "
                  "| fast median ms | fast p95 ms | client CPU ms/req | server CPU ms/req |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {int(r['slow_share'] * 100)}% reports/searched lists | {r['client']} "
                  f"| {r['clients']} | {r['seconds']} | {r['requests']} | {r['req_per_s']} "
                  f"| {r['errors']} | {r['fast_median_ms']} | {r['fast_p95_ms']} "
                  f"| {r['client_cpu_ms_per_request']} | {r['server_cpu_ms_per_request']} |"
                  for r in runs]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: the instance's database")
    parser.add_argument("--runs", type=int, default=30, help="requests per page and role")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--throughput-seconds", type=float, default=30, help="0: skip")
    parser.add_argument("--client", choices=("http", "requests", "both"), default="http",
                        help="the throughput run's client (both: one run with each)")
    parser.add_argument("--compare-url", help="a second database to time every page on, "
                        "interleaved, with the ratio A / B (e.g. 200K / 20K)")
    parser.add_argument("--json", help="write the tables to this file")
    args = parser.parse_args()
    # Stopped by a signal, the client still stops its gunicorn (the ``with`` block below).
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url} if args.database_url
                     else None)
    url = args.database_url or app.config["SQLALCHEMY_DATABASE_URI"]
    f = facts(app)
    print(f"{f['accounts']} accounts; whale {f['whale']}, ordinary {f['ordinary']}; {url}")
    f_b = None
    if args.compare_url:
        f_b = facts(create_app({"SQLALCHEMY_DATABASE_URI": args.compare_url}))
        print(f"B: {f_b['accounts']} accounts; whale {f_b['whale']}, ordinary "
              f"{f_b['ordinary']}; {args.compare_url}")
    with contextlib.ExitStack() as stack:
        server = start(stack, url, args.workers)
        other = None
        if f_b is not None:
            other = (start(stack, args.compare_url, args.workers).base, f_b)
        rows = time_pages(server.base, f, args.runs, args.warmup, other=other)
        ratio_rows = ratios(rows, f)
        runs = []
        if args.throughput_seconds > 0:
            kinds = ("http", "requests") if args.client == "both" else (args.client,)
            for kind in kinds:
                for share in (0.0, 0.2):
                    runs.append(throughput(server.base, f, args.throughput_seconds,
                                           args.clients, share, kind, server.process.pid))
    print(markdown(rows, ratio_rows, runs))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "accounts": f["accounts"], "whale": f["whale"], "ordinary": f["ordinary"],
            "runs": args.runs, "workers": args.workers, "database": db_name(url),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            **({"compare": {"accounts": f_b["accounts"], "whale": f_b["whale"],
                            "ordinary": f_b["ordinary"], "database": db_name(args.compare_url)}}
               if f_b else {}),
            "pages": rows, "ratios": ratio_rows, "throughput": runs}, indent=1))
        print(f"written: {args.json}")


def start(stack: contextlib.ExitStack, url: str, workers: int) -> Server:
    """A gunicorn on ``url`` in a temporary folder, answering; stopped when ``stack`` ends."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    server = stack.enter_context(Server(url, free_port(), workers, folder))
    server.wait()
    return server


def db_name(url: str) -> str:
    return url.split(":", 1)[0]


if __name__ == "__main__":
    main()
