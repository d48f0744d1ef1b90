"""Imports are written in short transactions, every change recorded with its job: "Undo
this import", a write that fails part way, and a worker that died all take it back."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from erp.db import db, utcnow
from erp.imports import runner, services
from erp.imports.contract import Importer
from erp.imports.models import DONE, FAILED, RUNNING, UNDONE, WRITING, ImportChange, ImportJob
from modules.crm.models import Account, Tag
from tests.conftest import csrf_token, login_as
from tests.erp.importing import (
    count,
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
)

pytestmark = pytest.mark.usefixtures("import_dir")

HEADER = ["Razão Social", "CNPJ", "Cidade", "Tags"]


def _accounts(app) -> dict[str, tuple]:
    with app.app_context():
        found = {a.tax_id: (a.legal_name, a.city, sorted(t.name for t in a.tags))
                 for a in db.session.scalars(select(Account))}
        db.session.remove()
    return found


@pytest.fixture
def existing(app, make_account):
    """Two accounts of rep_a before any import, one of them tagged."""
    with app.app_context():
        old = Tag(name="Antiga")
        db.session.add_all([old, Tag(name="Nova")])
        db.session.commit()
        old_id = old.id
        db.session.remove()
    make_account("rep_a", legal_name="Antes Um Ltda", tax_id=make_cnpj(1), city="Recife",
                 tag_ids=[old_id])
    make_account("rep_a", legal_name="Antes Dois Ltda", tax_id=make_cnpj(2), city="Natal")


def _mixed_file(new: int = 5) -> bytes:
    """Updates the two existing accounts (name, city, tags) and creates ``new`` more."""
    rows = [HEADER, ["Depois Um Ltda", make_cnpj(1), "Olinda", "Nova"],
            ["Depois Dois Ltda", make_cnpj(2), "Natal", ""]]
    rows += [[f"Nova {i} Ltda", make_cnpj(100 + i), "Caruaru", ""] for i in range(new)]
    return csv_bytes(rows)


def test_every_change_is_recorded_with_its_job(app, users, existing, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 3)
    result = run_import(app, users["rep_a"], "accounts", _mixed_file())
    assert (result.status, result.created, result.updated) == (DONE, 5, 2)
    with app.app_context():
        changes = db.session.scalars(select(ImportChange).where(
            ImportChange.job_id == result.id)).all()
        created = {c.record_key for c in changes if c.action == "create"}
        updated = {c.record_key: c.values for c in changes if c.action == "update"}
        new_ids = {str(i) for i in db.session.scalars(select(Account.id).where(
            Account.legal_name.like("Nova %")))}
        first = db.session.scalar(select(Account).where(Account.tax_id == make_cnpj(1)))
        db.session.remove()
    assert created == new_ids
    assert updated[str(first.id)]["legal_name"] == ["Antes Um Ltda", "Depois Um Ltda"]
    assert updated[str(first.id)]["city"] == ["Recife", "Olinda"]
    assert "tags" in updated[str(first.id)]


def test_undo_deletes_what_it_created_and_puts_back_what_it_updated(app, client, users,
                                                                     existing):
    before = _accounts(app)
    result = run_import(app, users["rep_a"], "accounts", _mixed_file())
    assert (result.created, result.updated) == (5, 2)
    assert _accounts(app) != before
    login_as(client, users["rep_a"])
    page = client.get(f"/imports/{result.id}").get_data(as_text=True)
    assert f"/imports/{result.id}/undo" in page
    confirm = client.get(f"/imports/{result.id}/undo")
    assert confirm.status_code == 200
    assert "5 records this import created will be deleted" in confirm.get_data(as_text=True)
    response = client.post(f"/imports/{result.id}/undo",
                           data={"csrf_token": csrf_token(client, f"/imports/{result.id}/undo")})
    assert response.status_code == 303
    assert _accounts(app) == before  # names, cities and tags as they were
    with app.app_context():
        job = db.session.get(ImportJob, result.id)
        assert job.status == UNDONE
        assert not db.session.scalar(select(func.count()).select_from(ImportChange))
        db.session.remove()


def test_undo_is_refused_while_a_created_account_has_an_opportunity(app, client, users,
                                                                     existing,
                                                                     make_opportunity):
    result = run_import(app, users["rep_a"], "accounts", _mixed_file(new=2))
    with app.app_context():
        created = db.session.scalar(select(Account).where(Account.tax_id == make_cnpj(100)))
        created_id, created_name = created.id, created.legal_name
        db.session.remove()
    make_opportunity(created_id, title="Venda depois da importação")
    after = _accounts(app)
    login_as(client, users["rep_a"])
    confirm = client.get(f"/imports/{result.id}/undo").get_data(as_text=True)
    assert "cannot be undone" in confirm
    assert "Venda depois da importação" in confirm and created_name in confirm
    assert 'id="undo-form"' not in confirm
    response = client.post(f"/imports/{result.id}/undo",
                           data={"csrf_token": csrf_token(client, f"/imports/{result.id}")},
                           follow_redirects=True)
    assert "Venda depois da importação" in response.get_data(as_text=True)
    assert _accounts(app) == after  # nothing changed
    with app.app_context():
        assert db.session.get(ImportJob, result.id).status == DONE
        db.session.remove()


def test_undo_is_refused_where_someone_changed_a_value_since(app, users, existing):
    result = run_import(app, users["rep_a"], "accounts", _mixed_file(new=1))
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.tax_id == make_cnpj(1)))
        account.city = "Garanhuns"
        db.session.commit()
        job = db.session.get(ImportJob, result.id)
        problems = services.undo_blockers(job)
        db.session.remove()
    assert any("city was changed after the import" in p for p in problems)


def test_undo_over_the_api(app, client, users, existing):
    from tests.crm.test_imports_api import _token

    headers = _token(app, users["rep_a"])
    result = run_import(app, users["rep_a"], "accounts", _mixed_file(new=2))
    answer = client.post(f"/api/v1/imports/{result.id}/undo", headers=headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == UNDONE
    again = client.post(f"/api/v1/imports/{result.id}/undo", headers=headers)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "undo_refused"
    other = _token(app, users["rep_b"])
    assert client.post(f"/api/v1/imports/{result.id}/undo", headers=other).status_code == 404


def test_a_write_that_fails_part_way_takes_back_the_earlier_batches(app, users, existing,
                                                                    monkeypatch):
    """The third write batch fails: the two before it were committed, and are removed."""
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 2)
    importer = app.extensions["erp"].get(Importer, "accounts")
    calls = {"n": 0}
    original = importer.write

    def failing_write(payloads, user):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return original(payloads, user)

    object.__setattr__(importer, "write", failing_write)
    try:
        before = _accounts(app)
        result = run_import(app, users["rep_a"], "accounts", _mixed_file(new=5))
    finally:
        object.__setattr__(importer, "write", original)
    assert calls["n"] == 3
    assert result.status == FAILED
    assert "was removed again" in result.message
    assert _accounts(app) == before


def _stopped_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    process.wait()
    return process.pid


def test_a_job_whose_worker_died_is_failed_and_taken_back(app, users, existing):
    """What a dead worker had written is removed; the job says so and can run again."""
    result = run_import(app, users["rep_a"], "accounts", _mixed_file(new=3))
    before_import = {k: v for k, v in _accounts(app).items()
                     if k in (make_cnpj(1), make_cnpj(2))}
    with app.app_context():  # as if the worker had been killed while writing
        job = db.session.get(ImportJob, result.id)
        job.status, job.phase, job.finished_at = RUNNING, WRITING, None
        job.worker = f"{runner.socket.gethostname()}:{_stopped_pid()}"
        job.heartbeat_at = utcnow()
        db.session.commit()
        assert runner.reap_stale() == 1
        job = db.session.get(ImportJob, result.id)
        assert (job.status, job.phase) == (FAILED, None)
        assert "background worker ended" in job.message
        db.session.remove()
    assert count(app, Account) == 2
    assert _accounts(app)[make_cnpj(1)][0] == "Antes Um Ltda"
    assert before_import[make_cnpj(1)][0] == "Depois Um Ltda"


def test_a_live_worker_is_left_alone_and_a_silent_one_is_not(app, users, existing,
                                                             monkeypatch):
    result = run_import(app, users["rep_a"], "accounts", _mixed_file(new=1))
    with app.app_context():
        job = db.session.get(ImportJob, result.id)
        job.status, job.phase = RUNNING, WRITING
        job.worker = "another-machine:123"
        job.heartbeat_at = utcnow()
        db.session.commit()
        assert runner.reap_stale() == 0  # another machine's worker that beats: alive
        job.heartbeat_at = utcnow() - timedelta(minutes=10)
        db.session.commit()
        assert runner.reap_stale() == 1  # silent for longer than IMPORT_STALE_AFTER_SECONDS
        db.session.remove()
    assert count(app, Account) == 2


def test_one_record_is_said_in_the_singular(app, client, users, existing):
    """Issue 17: counts agree with their words ("1 created", "The 1 record … will be
    deleted"), in the job's message, the undo page and its outcome."""
    result = run_import(app, users["rep_a"], "accounts", _mixed_file(new=1))
    assert (result.created, result.updated) == (1, 2)
    assert result.message == "1 created, 2 updated, 0 skipped."
    login_as(client, users["rep_a"])
    confirm = client.get(f"/imports/{result.id}/undo").get_data(as_text=True)
    assert "The 1 record this import created will be deleted." in confirm
    assert "The 2 records it updated will get back the values they had before." in confirm
    response = client.post(f"/imports/{result.id}/undo",
                           data={"csrf_token": csrf_token(client, f"/imports/{result.id}/undo")})
    page = client.get(response.location).get_data(as_text=True)
    assert "The import was undone: 3 records deleted or put back." in page
