"""An import through the real background worker while four clients save (issue 12).

    .venv/bin/python bench/import_concurrent.py [N] [--rows N] [--database-url URL]
                                                [--clients 4] [--idle 10] [--no-sqlite]

What `flask --app erp serve` runs, on a fresh database: gunicorn (2 workers) and the
worker (`flask --app erp worker`) as subprocesses sharing the queue file. The generated
CSV of N accounts (default 100,000; bench/import_accounts.py's file) is uploaded and
started as the web page does (store_upload, save_mapping, start: queued for the worker).
Meanwhile each client, a real HTTP client with an API token and a logged-in browser
session, loops: POST an account, PATCH its city, POST an opportunity, load three pages.

Prints, per database: the import's rows/s (from start() to the job finished), the
worker's peak RSS (VmHWM), the p50/p99/max latency of the clients' saves during the
import (and, for comparison, during `--idle` seconds before it), 5xx answers, and lost
saves: acknowledged saves whose result is not in the database afterwards.

Runs on a SQLite file, then on PostgreSQL if `--database-url postgresql+psycopg://...`
or ERP_BENCH_DATABASE_URL is given: the URL names the server only; the bench creates a
scratch database there and drops it at the end (an existing database is never touched).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from stdnum.br import cnpj

from erp import create_app
from erp.api.tokens import create_token
from erp.auth.models import Team, User
from erp.auth.seed import ADMIN, ensure_default_roles
from erp.db import db, writing
from erp.serve import commands
from erp.setup import upgrade_database

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_accounts import write_csv  # noqa: E402 - the same file as the serial bench

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PASSWORD = secrets.token_urlsafe(12)
REQUEST_TIMEOUT = 90  # seconds; more than gunicorn's 30 s worker timeout
STOP_TIMEOUT = 25  # seconds each subprocess gets to stop before it is killed
READY_LINE = "worker: "  # logged by erp.tasks.run_worker just before consuming
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- the clients ---------------------------------------------------------------------------


@dataclass
class ClientLog:
    saves: dict[str, list[float]] = field(default_factory=lambda: {"idle": [], "import": []})
    statuses: list[int] = field(default_factory=list)
    saved: dict[int, str] = field(default_factory=dict)  # account id -> the city it was given
    opportunities: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Client(threading.Thread):
    """Saves and page loads, as fast as the server answers, until told to stop."""

    def __init__(self, base: str, number: int, username: str, token: str, stage_id: int,
                 phase: list[str], stop: threading.Event, deadline: float):
        super().__init__(name=f"client-{number}", daemon=True)
        self.base, self.number, self.username, self.token = base, number, username, token
        self.stage_id, self.phase, self.stop, self.deadline = stage_id, phase, stop, deadline
        self.log = ClientLog()
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {token}"
        self.web = requests.Session()

    def login(self) -> None:
        page = self.web.get(f"{self.base}/auth/login", timeout=REQUEST_TIMEOUT)
        match = CSRF.search(page.text)
        if page.status_code != 200 or not match:
            raise RuntimeError(f"login page: {page.status_code}")
        answer = self.web.post(f"{self.base}/auth/login", timeout=REQUEST_TIMEOUT, data={
            "csrf_token": match.group(1), "login": self.username, "password": PASSWORD})
        if answer.status_code != 200 or "/auth/login" in answer.url:
            raise RuntimeError(f"{self.username} could not log in: {answer.status_code}")

    def run(self) -> None:
        serial = 0
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            serial += 1
            try:
                self.round(serial)
            except Exception as error:  # counted and shown, not lost in a thread
                self.log.errors.append(f"{type(error).__name__}: {error}")
                time.sleep(0.5)

    def save(self, method: str, path: str, body: dict) -> requests.Response:
        phase = self.phase[0]
        began = time.perf_counter()
        try:
            response = self.api.request(method, f"{self.base}/api/v1{path}", json=body,
                                        timeout=REQUEST_TIMEOUT)
        finally:
            self.log.saves[phase].append(time.perf_counter() - began)
        self.log.statuses.append(response.status_code)
        return response

    def failed(self, what: str, response: requests.Response) -> None:
        self.log.errors.append(f"{what}: {response.status_code} {response.text[:200]}")

    def round(self, serial: int) -> None:
        # Branch 0002: never one of the imported CNPJs (branch 0001).
        base = f"{90_000_000 + self.number * 1_000_000 + serial:08d}0002"
        created = self.save("POST", "/accounts", {
            "legal_name": f"Cliente {self.number}-{serial} Ltda",
            "tax_id": cnpj.format(base + cnpj.calc_check_digits(base))})
        if created.status_code != 201:
            return self.failed("create", created)
        account = created.json()
        city = f"Cidade {self.number}-{serial}"
        changed = self.save("PATCH", f"/accounts/{account['id']}",
                            {"version": account["version"], "city": city})
        if changed.status_code != 200:
            return self.failed("patch", changed)
        self.log.saved[account["id"]] = city
        deal = self.save("POST", "/opportunities", {
            "title": f"Negócio {self.number}-{serial}", "account_id": account["id"],
            "stage_id": self.stage_id})
        if deal.status_code != 201:
            return self.failed("opportunity", deal)
        self.log.opportunities.append(deal.json()["id"])
        for path in ("/crm/accounts", f"/crm/accounts/{account['id']}", "/"):
            page = self.web.get(self.base + path, timeout=REQUEST_TIMEOUT)
            self.log.statuses.append(page.status_code)
            if page.status_code != 200:
                self.failed(f"GET {path}", page)
        return None


# --- subprocesses ---------------------------------------------------------------------------


@contextmanager
def no_interrupt() -> Iterator[None]:
    """A second Ctrl+C must not leave a subprocess or a scratch database behind."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spawn(command: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and commands
            command, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # Ctrl+C is for the bench, which stops them in order
    process.log_path = log_path
    return process


def stop(process: subprocess.Popen | None, sig: int) -> None:
    """``sig`` (gunicorn: SIGTERM; the worker: SIGINT, a graceful stop), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # gunicorn's workers with it
        process.wait()


def log_tail(process: subprocess.Popen | None, lines: int = 30) -> str:
    path = getattr(process, "log_path", None)
    if not path or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), while it lives."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def wait_for(predicate, timeout: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited ({process.returncode})\n"
                               f"{log_tail(process)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s\n{log_tail(process)}")
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


# --- the database ----------------------------------------------------------------------------


class ScratchDatabase:
    """A PostgreSQL database of our own on the server of ``url``; dropped by :meth:`drop`."""

    def __init__(self, url: str):
        self.server = make_url(url)
        self.name = f"erp_bench_{secrets.token_hex(4)}"
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)
        self._execute(f'CREATE DATABASE "{self.name}"')

    def _execute(self, statement: str) -> None:
        last = None
        for maintenance in dict.fromkeys([self.server.database or "postgres", "postgres"]):
            conninfo = self.server.set(drivername="postgresql", database=maintenance)
            try:
                with psycopg.connect(conninfo.render_as_string(hide_password=False),
                                     autocommit=True, connect_timeout=10) as connection:
                    connection.execute(statement)
                return
            except psycopg.OperationalError as error:  # no such maintenance database
                last = error
        raise last

    def drop(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def prepare(app, clients: int) -> tuple[int, list[tuple[str, str]], int]:
    """Schema, users (an admin who imports, a sales team who save), API tokens, stages.
    Returns the admin's id, each client's (username, token), and a stage id."""
    from modules.crm.models import Stage
    from modules.crm.services.settings import ensure_defaults

    upgrade_database(app)  # every module's migrations; grants the modules' defaults
    with app.app_context():
        roles = ensure_default_roles()
        team = Team(name="Vendas")
        admin = User(username="bench", name="Bench", email="bench@example.com",
                     roles=[roles[ADMIN]])
        people = [User(username=f"client{n}", name=f"Client {n}", email=f"client{n}@example.com",
                       team=team, roles=[roles["sales_manager" if n == 0 else "sales_rep"]])
                  for n in range(clients)]
        for user in [admin, *people]:
            user.set_password(PASSWORD)
        db.session.add_all([team, admin, *people])
        db.session.commit()
        ensure_defaults()
        stage_id = db.session.scalar(select(Stage.id).order_by(Stage.sequence).limit(1))
        tokens = [(user.username, create_token(user, "bench")[1]) for user in people]
        admin_id = admin.id
        db.session.remove()
    return admin_id, tokens, stage_id


def start_import(app, admin_id: int, path: Path) -> int:
    from erp.imports import services

    # As the upload's POST requests do: each transaction takes SQLite's write lock at BEGIN
    # (a read snapshot turned write fails at once when the clients have written meanwhile).
    with app.app_context(), writing():
        user = db.session.get(User, admin_id)
        with open(path, "rb") as stream:
            job = services.store_upload(stream, path.name, user=user, kind="accounts")
        services.save_mapping(job, job.mapping)
        if not services.start(job):
            raise RuntimeError("the import could not be started")
        job_id = job.id
        db.session.remove()
    return job_id


def job_state(app, job_id: int):
    from erp.imports.models import ImportJob

    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        state = (job.status, job.finished, job.processed_rows, job.written_rows or 0,
                 job.total_rows, job.created_rows, job.rejected_rows, job.message)
        db.session.remove()
    return state


def lost_saves(app, logs: list[ClientLog]) -> int:
    """Acknowledged saves whose result is not there: an account without the city it was
    given (or gone), an opportunity missing."""
    from modules.crm.models import Account, Opportunity

    saved = {account_id: city for log in logs for account_id, city in log.saved.items()}
    deals = [deal_id for log in logs for deal_id in log.opportunities]
    lost = 0
    with app.app_context():
        ids = list(saved)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            stored = dict(db.session.execute(
                select(Account.id, Account.city).where(Account.id.in_(chunk))).all())
            lost += sum(1 for account_id in chunk if stored.get(account_id) != saved[account_id])
        for start in range(0, len(deals), 500):
            chunk = deals[start:start + 500]
            lost += len(chunk) - db.session.scalar(
                select(func.count()).select_from(Opportunity).where(Opportunity.id.in_(chunk)))
        db.session.remove()
    return lost


# --- one run -------------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    rows: int
    status: str = "?"
    seconds: float = 0.0
    rss_mb: float | None = None
    idle: list[float] = field(default_factory=list)
    during: list[float] = field(default_factory=list)
    server_errors: int = 0
    errors: int = 0  # failed requests (any status but the expected one) and exceptions
    lost: int | None = None
    samples: list[str] = field(default_factory=list)


def run(label: str, url: str, csv_path: Path, rows: int, args, folder: Path) -> Result:
    folder.mkdir(parents=True)
    env = {name: value for name, value in os.environ.items() if not name.startswith("ERP_")}
    env.update({
        "ERP_DATABASE_URL": url,
        "ERP_TASKS_FILE": str(folder / "tasks.sqlite3"),
        "ERP_IMPORT_FOLDER": str(folder / "imports"),
        "ERP_SECRET_KEY": secrets.token_hex(16),
        "ERP_DEFAULT_LOCALE": "en",
        # The clients save as fast as they are answered: no 429s from the per-token limit.
        "ERP_API_RATE_LIMIT": "1000000 per minute",
        "ERP_IMPORT_MAX_BYTES": str(max(200 * 2**20, 2 * csv_path.stat().st_size)),
        "ERP_IMPORT_MAX_ROWS": str(max(200_000, rows)),
        "PYTHONUNBUFFERED": "1",
    })
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["ERP_SECRET_KEY"],
        "TASKS_IMMEDIATE": False, "TASKS_FILE": env["ERP_TASKS_FILE"],
        "IMPORT_FOLDER": env["ERP_IMPORT_FOLDER"],
        "IMPORT_MAX_BYTES": int(env["ERP_IMPORT_MAX_BYTES"]),
        "IMPORT_MAX_ROWS": int(env["ERP_IMPORT_MAX_ROWS"]), "BABEL_DEFAULT_LOCALE": "en"})
    result = Result(label, rows)
    admin_id, tokens, stage_id = prepare(app, args.clients)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web_command, worker_command = commands("127.0.0.1", port, 2, dev=False)
    web = worker = None
    stop_clients = threading.Event()
    clients: list[Client] = []
    try:
        worker = spawn(worker_command, env, folder / "worker.log")
        web = spawn(web_command, env, folder / "web.log")
        wait_for(lambda: READY_LINE in worker.log_path.read_text(errors="replace"), 60,
                 "the worker", worker)
        wait_for(lambda: answers(f"{base}/auth/login"), 60, "gunicorn", web)
        phase = ["idle"]
        deadline = time.monotonic() + args.idle + args.timeout + 60
        clients = [Client(base, n, username, token, stage_id, phase, stop_clients, deadline)
                   for n, (username, token) in enumerate(tokens)]
        for client in clients:
            client.login()
        for client in clients:
            client.start()
        print(f"[{label}] {args.clients} clients saving; {args.idle:.0f} s without an import")
        time.sleep(args.idle)

        phase[0] = "import"
        began = time.monotonic()
        job_id = start_import(app, admin_id, csv_path)
        print(f"[{label}] import {job_id} queued: {rows} rows")
        marks: set[int] = set()
        while True:
            status, finished, processed, written, total, created, rejected, message = (
                job_state(app, job_id))
            elapsed = time.monotonic() - began
            result.rss_mb = peak_rss_mb(worker.pid) or result.rss_mb
            if finished:
                break
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited ({worker.returncode})\n{log_tail(worker)}")
            if elapsed > args.timeout:
                raise RuntimeError(f"the import did not finish within {args.timeout:.0f} s "
                                   f"({status}, {processed} checked, {written} written)")
            tenth = (5 * (processed + written) // total) if total else -1
            if tenth not in marks:
                marks.add(tenth)
                saves = sum(len(c.log.saves["import"]) for c in clients)
                print(f"[{label}] {elapsed:6.1f} s  {status:8} checked {processed:>7} "
                      f"written {written:>7}  worker RSS {result.rss_mb or 0:.0f} MB  "
                      f"client saves {saves}")
            time.sleep(1)
        result.seconds = time.monotonic() - began
        result.status = status if (created, rejected) == (rows, 0) else (
            f"{status} ({created} created, {rejected} rejected: {message})")
        stop_clients.set()
        for client in clients:
            client.join(REQUEST_TIMEOUT + 5)
        result.rss_mb = peak_rss_mb(worker.pid) or result.rss_mb
    finally:
        stop_clients.set()
        with no_interrupt():
            stop(web, signal.SIGTERM)
            stop(worker, signal.SIGINT)
    logs = [client.log for client in clients]
    result.idle = sorted(t for log in logs for t in log.saves["idle"])
    result.during = sorted(t for log in logs for t in log.saves["import"])
    statuses = [s for log in logs for s in log.statuses]
    result.server_errors = sum(1 for s in statuses if s >= 500)
    errors = [e for log in logs for e in log.errors]
    result.errors = len(errors)
    result.samples = errors[:5]
    result.lost = lost_saves(app, logs)
    with app.app_context():
        db.engine.dispose()
    return result


# --- the table -----------------------------------------------------------------------------


def ms(times: list[float], q: float) -> str:
    if not times:
        return "-"
    return f"{1000 * times[min(len(times) - 1, int(len(times) * q))]:.0f}"


def table(results: list[Result]) -> str:
    head = ("database", "rows", "seconds", "rows/s", "worker peak RSS MB", "saves",
            "p50 ms", "p99 ms", "max ms", "5xx", "lost saves", "idle p50/p99 ms")
    lines = [head]
    for r in results:
        lines.append((r.database, f"{r.rows:,}", f"{r.seconds:.1f}",
                      f"{r.rows / r.seconds:,.0f}" if r.seconds else "-",
                      f"{r.rss_mb:.0f}" if r.rss_mb else "?", str(len(r.during)),
                      f"{1000 * statistics.median(r.during):.0f}" if r.during else "-",
                      ms(r.during, 0.99), ms(r.during, 1.0), str(r.server_errors),
                      "?" if r.lost is None else str(r.lost),
                      f"{ms(r.idle, 0.5)}/{ms(r.idle, 0.99)}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    rendered = ["| " + " | ".join(cell.rjust(w) if i else cell.ljust(w)
                                  for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
                + " |" for line in lines]
    rendered.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(rendered)


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, nargs="?", help="rows (as the other benches)")
    parser.add_argument("--rows", type=int, help="accounts imported (default 100,000)")
    parser.add_argument("--database-url", default=os.environ.get("ERP_BENCH_DATABASE_URL"),
                        help="a PostgreSQL server to run on too (a scratch database is made)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--idle", type=float, default=10,
                        help="seconds the clients save before the import starts")
    parser.add_argument("--timeout", type=float,
                        help="seconds the import may take (default 300 + 20 ms a row)")
    parser.add_argument("--keep", action="store_true", help="keep the files and the logs")
    args = parser.parse_args()
    rows = args.rows or args.count or 100_000
    args.timeout = args.timeout or 300 + rows * 0.02
    url = args.database_url
    if url and not url.startswith("postgresql"):
        parser.error("--database-url: a postgresql+psycopg://user@host:port/db URL")
    if args.no_sqlite and not url:
        parser.error("--no-sqlite needs --database-url or ERP_BENCH_DATABASE_URL")

    folder = Path(tempfile.mkdtemp(prefix="erp-bench-"))
    results: list[Result] = []
    failed = False
    try:
        csv_path = folder / "contas.csv"
        write_csv(csv_path, rows)
        print(f"{rows} rows, {csv_path.stat().st_size / 2**20:.1f} MB; {args.clients} clients; "
              f"{os.cpu_count()} CPUs, load average {load()}; files in {folder}")
        runs = [] if args.no_sqlite else [("sqlite", None)]
        runs += [("postgresql", url)] if url else []
        for label, server in runs:
            scratch = ScratchDatabase(server) if server else None
            try:
                database_url = scratch.url if scratch else (
                    f"sqlite:///{folder / label / 'erp.sqlite3'}")
                results.append(run(label, database_url, csv_path, rows, args, folder / label))
            except Exception as error:
                failed = True
                print(f"[{label}] FAILED: {error}", file=sys.stderr)
            finally:
                if scratch:
                    with no_interrupt():
                        scratch.drop()
    except KeyboardInterrupt:
        failed = True
        print("interrupted: everything started was stopped", file=sys.stderr)
    finally:
        if args.keep or failed:
            print(f"files and logs kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    if results:
        print(f"\n{args.clients} clients saving while {rows:,} accounts are imported by the "
              f"worker (saves: POST account, PATCH account, POST opportunity; latency as the "
              f"client sees it, during the import; idle: the {args.idle:.0f} s before it)")
        print(table(results))
        print(f"load average at the end: {load()} (other work on the machine slows every figure)")
        for r in results:
            if r.status != "done" or r.samples:
                print(f"{r.database}: import {r.status}; {r.errors} failed requests, "
                      f"e.g. {r.samples}")
    return 1 if failed or any(r.status != "done" or r.server_errors or r.lost
                              for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
