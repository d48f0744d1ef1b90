"""Imports through the real worker process, on the suite's database (SQLite or PostgreSQL):

* a 20,000-row import while four clients keep saving and reading: no 5xx, no lost save;
* the worker killed (SIGKILL) in the middle of the write pass: a new worker finds the job,
  fails it and takes back what it wrote; the job then runs again to the end.
"""

from __future__ import annotations

import io
import signal
import statistics
import threading
import time
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from erp.auth.models import User
from erp.db import db
from erp.imports import services
from erp.imports.models import DONE, FAILED, WRITING, ImportJob
from modules.crm.models import Account, Opportunity
from tests.conftest import login_as
from tests.crm.api_support import token_for
from tests.erp.importing import csv_bytes, make_cnpj
from tests.erp.worker import running_worker, stop_worker, wait_ready, wait_until, worker_env

pytestmark = pytest.mark.slow

IMPORT_ROWS = 20_000
CLIENTS = 4


@pytest.fixture
def worker_app(make_app, database_url, tmp_path):
    """An app on the suite's database whose tasks go to a queue file, and the environment
    of a worker consuming it."""
    env = worker_env(database_url, tmp_path, ERP_MODULE_DIRS=None, ERP_DEFAULT_LOCALE="en")
    app = make_app(TASKS_IMMEDIATE=False, TASKS_FILE=env["ERP_TASKS_FILE"],
                   IMPORT_FOLDER=env["ERP_IMPORT_FOLDER"])
    yield app, env
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _start_import(app, user_id: int, rows: int, first: int = 1) -> int:
    content = csv_bytes([["Razão Social", "CNPJ", "Cidade"]] + [
        [f"Importada {n} Ltda", make_cnpj(first + n), "Recife"] for n in range(rows)])
    with app.app_context():
        user = db.session.get(User, user_id)
        job = services.store_upload(io.BytesIO(content), "contas.csv", user=user,
                                    kind="accounts")
        services.save_mapping(job, job.mapping)
        assert services.start(job)
        job_id = job.id
        db.session.remove()
    return job_id


def _job(app, job_id: int) -> ImportJob:
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        db.session.expunge(job)
        db.session.remove()
    return job


def _count(app, model, *where) -> int:
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(model).where(*where))
        db.session.remove()
    return total


@dataclass
class ClientLog:
    statuses: list[int] = field(default_factory=list)
    save_seconds: list[float] = field(default_factory=list)
    saved: dict[int, str] = field(default_factory=dict)  # account id -> city it was given
    opportunities: int = 0
    errors: list[str] = field(default_factory=list)


def _client_loop(app, user_id: int, token: str, number: int, stop: threading.Event,
                 log: ClientLog, stage_id: int) -> None:
    """Save accounts (create, then change) and opportunities through the API, and load
    pages as a browser would, until told to stop."""
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    web = app.test_client()
    login_as(web, user_id)
    serial = 0
    while not stop.is_set():
        try:
            serial += 1
            _one_round(api, headers, web, number, serial, log, stage_id)
        except Exception as error:  # reported by the test, not lost in a thread
            log.errors.append(f"{type(error).__name__}: {error}")


def _one_round(api, headers, web, number, serial, log: ClientLog, stage_id: int) -> None:
    def timed(call, *args, **kwargs):
        began = time.monotonic()
        response = call(*args, **kwargs)
        log.save_seconds.append(time.monotonic() - began)
        log.statuses.append(response.status_code)
        return response

    tax_id = make_cnpj(90_000_000 + number * 100_000 + serial)
    created = timed(api.post, "/api/v1/accounts", headers=headers, json={
        "legal_name": f"Cliente {number}-{serial} Ltda", "tax_id": tax_id})
    if created.status_code != 201:
        log.errors.append(f"create: {created.status_code} {created.get_data(as_text=True)}")
        return
    account = created.json
    city = f"Cidade {number}-{serial}"
    changed = timed(api.patch, f"/api/v1/accounts/{account['id']}", headers=headers,
                    json={"version": account["version"], "city": city})
    if changed.status_code != 200:
        log.errors.append(f"patch: {changed.status_code} {changed.get_data(as_text=True)}")
        return
    log.saved[account["id"]] = city
    deal = timed(api.post, "/api/v1/opportunities", headers=headers, json={
        "title": f"Negócio {number}-{serial}", "account_id": account["id"],
        "stage_id": stage_id})
    if deal.status_code == 201:
        log.opportunities += 1
    else:
        log.errors.append(f"opportunity: {deal.status_code} {deal.get_data(as_text=True)}")
    for url in ("/crm/accounts", f"/crm/accounts/{account['id']}", "/"):
        log.statuses.append(web.get(url).status_code)


def test_an_import_does_not_stop_other_users_from_saving(worker_app, users, pipeline):
    app, env = worker_app
    logs = [ClientLog() for _ in range(CLIENTS)]
    people = ["rep_a", "rep_b", "rep_c", "manager"]
    stop = threading.Event()
    with running_worker(env) as worker:
        wait_ready(worker)
        began = time.monotonic()
        job_id = _start_import(app, users["admin"], IMPORT_ROWS)
        tokens = [token_for(app, users[people[n]], f"client {n}") for n in range(CLIENTS)]
        threads = [threading.Thread(target=_client_loop, args=(
            app, users[people[n]], tokens[n], n, stop, logs[n],
            pipeline["stages"]["Prospecção"])) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            wait_until(lambda: _job(app, job_id).finished, timeout=900, interval=1,
                       worker=worker, message="waiting for the import")
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
        elapsed = time.monotonic() - began
        assert stop_worker(worker) == 0
    job = _job(app, job_id)
    assert (job.status, job.created_rows, job.rejected_rows) == (DONE, IMPORT_ROWS, 0), job.message

    statuses = [s for log in logs for s in log.statuses]
    waits = sorted(s for log in logs for s in log.save_seconds)
    errors = [e for log in logs for e in log.errors]
    print(f"\n{IMPORT_ROWS} rows imported in {elapsed:.1f} s while {CLIENTS} clients made "
          f"{len(statuses)} requests ({len(waits)} saves): longest save {max(waits):.3f} s, "
          f"median {statistics.median(waits):.3f} s, p99 {waits[int(len(waits) * .99)]:.3f} s")
    assert not [s for s in statuses if s >= 500], errors
    assert not errors
    assert len(waits) >= 3 * CLIENTS  # the clients really worked during the import

    # No save lost: every account the clients created has the city they gave it, and
    # every opportunity is there.
    saved = {account_id: city for log in logs for account_id, city in log.saved.items()}
    with app.app_context():
        stored = dict(db.session.execute(select(Account.id, Account.city).where(
            Account.id.in_(saved))).all())
        db.session.remove()
    assert stored == saved
    assert _count(app, Opportunity) == sum(log.opportunities for log in logs)
    assert _count(app, Account, Account.legal_name.like("Importada %")) == IMPORT_ROWS


def test_a_killed_worker_leaves_no_half_import_and_the_job_can_run_again(worker_app, users):
    app, env = worker_app
    rows = 3000
    with running_worker(env, args=("--threads", "1")) as worker:
        wait_ready(worker)
        job_id = _start_import(app, users["admin"], rows)

        def writing_has_begun():
            job = _job(app, job_id)
            return job.phase == WRITING and job.written_rows >= 200

        wait_until(writing_has_begun, timeout=300, interval=0.05, worker=worker)
        stop_worker(worker, signal.SIGKILL)
    stuck = _job(app, job_id)
    assert stuck.status == "running"  # as the dead worker left it
    written = _count(app, Account)
    assert 0 < written < rows  # committed batches are there: consistent, not complete

    with running_worker(env) as worker:  # a new worker recovers the job as it starts
        wait_until(lambda: _job(app, job_id).finished, timeout=120, worker=worker)
        job = _job(app, job_id)
        assert job.status == FAILED
        assert "background worker ended" in job.message
        assert _count(app, Account) == 0  # what the dead worker wrote was taken back

        with app.app_context():  # the user runs it again
            assert services.start(db.session.get(ImportJob, job_id))
            db.session.remove()
        wait_until(lambda: _job(app, job_id).finished, timeout=300, worker=worker)
        assert stop_worker(worker) == 0
    job = _job(app, job_id)
    assert (job.status, job.created_rows) == (DONE, rows)
    assert _count(app, Account) == rows
