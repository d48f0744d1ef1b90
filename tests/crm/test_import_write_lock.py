"""SQLite's write lock during an import's write pass (issue 15): each batch is checked
before the lock is taken, and holds it only for its writes.

A write batch is checked again in a read transaction (a deferred BEGIN), which its first
INSERT turns into the write transaction: SQLite allows that only if nobody wrote since the
check's reads began, so what is written is what was checked. Someone who wrote in between
makes SQLite refuse at once; the batch is rolled back and done again under the lock from
its first read. The check's time is the pause other writers get between two batches: no
sleeping when it is longer than ``IMPORT_WRITE_PAUSE_MS``. Before, every batch took the
lock at BEGIN (BEGIN IMMEDIATE), checked and wrote under it, then slept 100 ms (200
batches of 100,000 rows: 20 s asleep).
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select, text

from erp.audit import AuditEntry
from erp.db import db
from erp.imports import runner
from erp.imports.models import DONE, ImportChange
from modules.crm.importers import accounts as account_importer
from modules.crm.models import Account
from tests.erp.importing import (
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
)

pytestmark = pytest.mark.usefixtures("import_dir")


@pytest.fixture(autouse=True)
def sqlite_only(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's single write lock; PostgreSQL locks rows")


def _file(start: int, rows: int) -> bytes:
    return csv_bytes([["Razão Social", "CNPJ", "Telefone"]] + [
        [f"Empresa {start + i}", make_cnpj(start + i), f"(11) 3{start + i:07d}"]
        for i in range(rows)])


class Transactions:
    """The statements of each transaction, per connection (BEGIN ... COMMIT/ROLLBACK)."""

    def __init__(self, engine):
        self.engine = engine
        self.open: dict[int, list[str]] = {}
        self.done: list[list[str]] = []

    def statement(self, conn, _cursor, statement, *_args):
        words = " ".join(statement.split()[:3]).upper()
        if words.startswith("BEGIN"):
            self.open[id(conn.connection.dbapi_connection)] = [words]
        elif (current := self.open.get(id(conn.connection.dbapi_connection))) is not None:
            current.append(words)

    def end(self, conn):
        current = self.open.pop(id(conn.connection.dbapi_connection), None)
        if current:
            self.done.append(current)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self.statement)
        event.listen(self.engine, "commit", self.end)
        event.listen(self.engine, "rollback", self.end)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self.statement)
        event.remove(self.engine, "commit", self.end)
        event.remove(self.engine, "rollback", self.end)

    def writing_accounts(self) -> list[list[str]]:
        return [t for t in self.done if "INSERT INTO CRM_ACCOUNT" in t]


def _engine(app):
    with app.app_context():
        return db.engine


def test_each_write_batch_is_checked_before_it_takes_the_write_lock(app, users, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 10)
    monkeypatch.setitem(app.config, "IMPORT_WRITE_BATCH_SIZE", 10)
    with Transactions(_engine(app)) as log:
        result = run_import(app, users["admin"], "accounts", _file(1_000, 30))
    assert (result.status, result.created) == (DONE, 30), result.message
    batches = log.writing_accounts()
    assert len(batches) == 3
    for statements in batches:
        # A deferred BEGIN: the lock comes with the first INSERT, after the check's reads
        # (the accounts with these CNPJs, phones...) in the same transaction.
        assert statements[0] == "BEGIN"
        first_insert = statements.index("INSERT INTO CRM_ACCOUNT")
        assert any(s.startswith("SELECT") for s in statements[:first_insert])


def test_no_pause_when_checking_the_next_batch_took_longer(app, users, monkeypatch):
    """The pause other writers need between two batches is measured from the moment the
    import gave the lock back: checking the next batch (here 1 s per clock reading) is
    that pause. With a clock that stands still, the import waits it out before each
    batch's write, never longer."""
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 10)
    monkeypatch.setitem(app.config, "IMPORT_WRITE_BATCH_SIZE", 10)
    monkeypatch.setitem(app.config, "IMPORT_WRITE_PAUSE_MS", 100)
    sleeps: list[float] = []
    ticks = iter(range(10**6))
    monkeypatch.setattr(runner, "time", SimpleNamespace(
        monotonic=lambda: float(next(ticks)), sleep=sleeps.append))
    result = run_import(app, users["admin"], "accounts", _file(2_000, 30))
    assert (result.status, result.created) == (DONE, 30), result.message
    assert sleeps == []

    monkeypatch.setattr(runner, "time", SimpleNamespace(monotonic=lambda: 5.0,
                                                        sleep=sleeps.append))
    result = run_import(app, users["admin"], "accounts", _file(3_000, 30))
    assert (result.status, result.created) == (DONE, 30), result.message
    # Before batches 2 and 3's writes and the final statistics: the whole pause each.
    assert [round(s, 6) for s in sleeps] == [0.1, 0.1, 0.1]


def test_the_pause_comes_after_the_rows_are_prepared_right_before_the_lock(app, users,
                                                                        monkeypatch):
    """The pause before a batch's write is taken right before the statement that takes
    the lock (its first INSERT), after the check's reads and after the importer built the
    rows and audit entries it inserts (erp.imports.bulk): that work counts as the pause
    (issue 15: waiting before it cost 10 of 70 s for 100,000 rows), and is not done
    under the lock."""
    from erp.imports import bulk

    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 10)
    monkeypatch.setitem(app.config, "IMPORT_WRITE_BATCH_SIZE", 10)
    monkeypatch.setitem(app.config, "IMPORT_WRITE_PAUSE_MS", 100)
    timeline: list[str] = []
    monkeypatch.setattr(runner, "time", SimpleNamespace(
        monotonic=lambda: 5.0, sleep=lambda _seconds: timeline.append("PAUSE")))
    real_prepared, real_entries = bulk._prepared, bulk.created_entries

    def prepared(*args, **kwargs):
        timeline.append("PREPARED")
        return real_prepared(*args, **kwargs)

    def entries(*args, **kwargs):
        timeline.append("AUDIT ENTRIES")
        return real_entries(*args, **kwargs)

    def statement(_conn, _cursor, text_, *_args):
        timeline.append(" ".join(text_.split()[:3]).upper())

    monkeypatch.setattr(bulk, "_prepared", prepared)
    monkeypatch.setattr(bulk, "created_entries", entries)
    engine = _engine(app)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        result = run_import(app, users["admin"], "accounts", _file(4_000, 30))
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert (result.status, result.created) == (DONE, 30), result.message
    pauses = [i for i, step in enumerate(timeline) if step == "PAUSE"]
    assert len(pauses) >= 2  # batches 2 and 3 (and the final statistics)
    for i in pauses[:2]:
        # The batch's rows and their audit entries built before it, without the lock.
        assert timeline[i - 2:i] == ["PREPARED", "AUDIT ENTRIES"]
        assert timeline[i + 1] == "INSERT INTO CRM_ACCOUNT"


def test_a_write_between_the_check_and_the_insert_makes_the_batch_run_again_locked(
        app, users, monkeypatch):
    """Another user saves an account with the CNPJ of a row after the batch was checked
    (the row was to create it) and before its INSERT: SQLite refuses the late write lock,
    the batch is rolled back and checked again under the lock, and the row now updates
    that account. Nothing is written twice; the import's record and audit trail match."""
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 10)
    monkeypatch.setitem(app.config, "IMPORT_WRITE_BATCH_SIZE", 10)
    engine = _engine(app)
    real_insert = account_importer.insert_records
    interfered = Counter()

    def insert_after_someone_saved(model, records):
        records = list(records)
        if not interfered and any(r.get("tax_id") == make_cnpj(4_003) for r in records):
            interfered["saves"] += 1
            with engine.connect() as other:  # another user's save, committed meanwhile
                other.execute(text(
                    "INSERT INTO crm_account (person_type, legal_name, tax_id, lifecycle, "
                    "owner_id, priority, archived, search_text, version, created_at, "
                    "updated_at) VALUES ('PJ', 'Salva por outro', :tax_id, 'prospect', "
                    ":owner, 0, 0, 'salva por outro', 1, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"), {"tax_id": make_cnpj(4_003),
                                            "owner": users["admin"]})
                other.commit()
        return real_insert(model, records)

    monkeypatch.setattr(account_importer, "insert_records", insert_after_someone_saved)
    with Transactions(engine) as log:
        result = run_import(app, users["admin"], "accounts", _file(4_000, 30))
    assert interfered["saves"] == 1
    assert (result.status, result.created, result.updated) == (DONE, 29, 1), result.message
    writes = log.writing_accounts()
    assert [t[0] for t in writes] == [
        "BEGIN",  # the other user's save
        "BEGIN",  # batch 1 checked, then its INSERT refused: rolled back
        "BEGIN IMMEDIATE",  # batch 1 again, under the lock from its first read
        "BEGIN IMMEDIATE",  # batch 2: someone was writing, so the lock first
        "BEGIN",  # batch 3: checked before the lock again
    ]
    with app.app_context():
        names = db.session.scalars(select(Account.legal_name).where(
            Account.tax_id == make_cnpj(4_003))).all()
        assert names == ["Empresa 4003"]  # updated by the row, once
        assert db.session.scalar(select(db.func.count()).select_from(Account).where(
            Account.legal_name.like("Empresa 40%"))) == 30
        changes = Counter(db.session.scalars(select(ImportChange.action).where(
            ImportChange.job_id == result.id)))
        assert changes == {"create": 29, "update": 1}
        created = db.session.scalar(select(db.func.count()).select_from(AuditEntry).where(
            AuditEntry.table_name == "crm_account", AuditEntry.action == "create"))
        assert created == 29  # (the other save went in by SQL): none twice
        db.session.remove()


def test_the_import_writes_sqlite_set_for_bulk_work_until_its_last_commit(app, users,
                                                                          monkeypatch):
    """While it runs, the import's connections have no memory map (the pages it inserts
    into are read once: mapped, each stayed in the worker's resident memory) and commit
    without waiting for the disk (synchronous NORMAL: about 600 commits of 5 ms for
    100,000 rows). The job's last commit waits for it (FULL), making all of it durable;
    the next transaction outside has the map and FULL again."""
    from erp.db import SQLITE_MMAP_BYTES

    real_insert = account_importer.insert_records
    real_commit = runner._commit
    settings, commits = [], []

    def pragmas(connection):
        return (connection.exec_driver_sql("PRAGMA mmap_size").scalar(),
                connection.exec_driver_sql("PRAGMA synchronous").scalar(),
                connection.exec_driver_sql("PRAGMA temp_store").scalar())

    def insert(model, records):
        settings.append(pragmas(db.session.connection()))
        return real_insert(model, records)

    def commit(session=None):
        commits.append(pragmas((session or db.session).connection()))
        return real_commit(session)

    monkeypatch.setattr(account_importer, "insert_records", insert)
    monkeypatch.setattr(runner, "_commit", commit)
    result = run_import(app, users["admin"], "accounts", _file(5_000, 5))
    assert (result.status, result.created) == (DONE, 5), result.message
    # No map, NORMAL, statement journals in memory (each row's INSERT, with its search
    # index and duplicate-key triggers, journals the pages it touches again: spilled to
    # a temporary file, 3 GB written for 30,000 rows; issue 15).
    assert settings == [(0, 1, 2)]
    assert commits[-1] == (SQLITE_MMAP_BYTES, 2, 0)  # the job's end: FULL, default temp
    assert set(commits[:-1]) == {(0, 1, 2)}  # progress while it ran
    with app.app_context():
        after = pragmas(db.session.connection())
        db.session.remove()
    assert after == (SQLITE_MMAP_BYTES, 2, 0)
