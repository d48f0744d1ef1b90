"""Running an import in the worker: check every row, then write in short transactions.

* **Check pass.** Every row goes through the importer's rules (the same as the preview)
  in read-only transactions, one per batch: no lock is held, other users work as usual.
  Rejected rows go to a CSV beside the upload (the original columns plus ``reason``).
  All-or-nothing (the default) with a rejected row: the job ends ``rejected``, nothing
  was written.
* **Write pass.** The file is read again; each batch of ``IMPORT_WRITE_BATCH_SIZE`` rows
  is checked again (the database may have changed meanwhile) and written in a
  transaction of its own, so SQLite's single write lock is held for one short batch at a
  time. On SQLite the batch is first checked *before* the lock is taken, in a read
  transaction that the first write turns into a write one: SQLite allows that only if
  nobody has written since the check read the database, so what was checked is what is
  written; if someone has (or holds the lock), the attempt is rolled back and the batch
  checked again under the lock from the start (:meth:`_Run.write_batch`). The lock is then
  held for the INSERTs alone, and the check's time is the pause that lets other writers
  in (``IMPORT_WRITE_PAUSE_MS`` at least between two batches). An importer inserts a
  batch's new records with a few statements (:func:`erp.imports.bulk.insert_records`),
  and what a cell's pure parsers worked out in the check pass is remembered for the
  second check (:func:`erp.validation.remembering`).
  Every record created or changed is recorded with its job (:mod:`erp.imports.changes`)
  in the same transaction, which is what makes the import undoable — and all-or-nothing
  as the user sees it: if a batch fails (a row became invalid, the database refused),
  what the earlier batches wrote is taken back and the job says so.
* **Progress and liveness.** After each batch the job row gets its counts and a
  heartbeat (:func:`beat`) naming the worker process; :func:`reap_stale` fails, and
  takes back, a running job whose worker has died.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from .. import csv_writer
from ..audit import acting_as
from ..auth.models import User
from ..db import (
    background_work,
    bulk_work,
    db,
    refresh_statistics,
    utcnow,
    writing,
)
from ..validation import remembering
from .changes import ChangeRecorder, take_back
from .contract import Importer, cell_text
from .models import (
    CHECKING,
    DONE,
    FAILED,
    REJECTED,
    RUNNING,
    UNDONE,
    WRITING,
    ImportJob,
)
from .reading import FORMAT_CSV, UnreadableFile, job_rows
from .rows import SeenKeys, ValueMap, check_batch

log = logging.getLogger(__name__)

ANALYZE_AFTER_ROWS = 2000


def lost_race(error: OperationalError) -> bool:
    """SQLite refused to turn a read transaction into a write one: another connection
    holds the write lock (SQLITE_BUSY) or wrote since the read began (SQLITE_BUSY_SNAPSHOT).
    Said at once, without waiting: the reads are stale, the work must be done again."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def done_message(created: int, updated: int, rejected: int) -> str:
    """"1 created, 2 updated, 1 skipped.": each count agrees in number with its word."""
    return _("%(created)s, %(updated)s, %(rejected)s.",
             created=ngettext("%(num)d created", "%(num)d created", created),
             updated=ngettext("%(num)d updated", "%(num)d updated", updated),
             rejected=ngettext("%(num)d skipped", "%(num)d skipped", rejected))


class WriteFailed(Exception):
    """The write pass cannot go on; ``message`` says why, for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def import_folder() -> Path:
    folder = current_app.config.get("IMPORT_FOLDER") or Path(current_app.instance_path) / "imports"
    return Path(folder)


def stored_path(job: ImportJob) -> Path:
    return import_folder() / job.stored_name


def rejects_path(job: ImportJob) -> Path:
    return import_folder() / f"{job.stored_name}.rejected.csv"


def rejects_delimiter(job: ImportJob) -> str:
    """The upload's own delimiter; ';' for XLSX (what Excel in Brazil opens as columns)."""
    if job.file_format == FORMAT_CSV:
        return (job.options or {}).get("delimiter") or ";"
    return ";"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _commit(session=None) -> None:
    """Commit a short write transaction (SQLite: the write lock is taken at its start)."""
    with writing():
        (session or db.session).commit()


def _job_session() -> Session:
    """The job row lives in a session of its own, apart from the records being imported:
    its counts are committed after every batch whatever the import's session does. Its
    objects outlive commits; read nothing through it between commits (SQLite: a write from
    an old read snapshot fails at once)."""
    return Session(db.engine, expire_on_commit=False)


class _Run:
    def __init__(self, job: ImportJob, jobs: Session, importer: Importer,
                 on_progress: Callable[[ImportJob], None] | None):
        self.job, self.jobs, self.importer, self.on_progress = job, jobs, importer, on_progress
        self.user_id = job.user_id
        config = current_app.config
        self.batch_size = max(1, int(config.get("IMPORT_BATCH_SIZE", 500)))
        self.write_batch_size = max(1, min(self.batch_size,
                                           int(config.get("IMPORT_WRITE_BATCH_SIZE", 500))))
        sqlite = db.engine.dialect.name == "sqlite"
        self.pause = int(config.get("IMPORT_WRITE_PAUSE_MS", 100)) / 1000 if sqlite else 0
        # SQLite: check a write batch before taking the lock (see write_batch), unless the
        # last batch lost the race (someone else is writing: take the lock at once).
        self.optimistic = sqlite
        self.released_at: float | None = None  # when the last batch gave the lock back
        self.lost_races = 0
        self.all_or_nothing = not job.skip_invalid
        self.rejected_numbers: set[int] = set()
        self.rejects = None
        self.rejects_file = None
        self.inserted: Counter = Counter()  # rows inserted per table, for refresh_statistics
        self.analyzed_at: Counter = Counter()
        self.values = ValueMap((job.options or {}).get("values"))  # the user's value mapping

    # --- progress -------------------------------------------------------------------------

    def publish(self) -> None:
        """Counts and heartbeat to the job row, in a transaction of their own."""
        self.job.heartbeat_at = utcnow()
        _commit(self.jobs)
        if self.on_progress:
            self.on_progress(self.job)

    # --- rejected rows --------------------------------------------------------------------

    def open_rejects(self, header: list) -> None:
        path = rejects_path(self.job)
        self.rejects_file = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self.rejects = csv_writer.writer(self.rejects_file, delimiter=rejects_delimiter(self.job))
        self.width = len(header)
        self.rejects.writerow([cell_text(c) for c in header] + [_("reason")])

    def reject(self, number: int, cells: list, reason: str) -> None:
        texts = [cell_text(c) for c in cells]
        texts += [""] * (self.width - len(texts))
        self.rejects.writerow(texts + [_("Row %(row)d: %(reason)s", row=number, reason=reason)])
        self.rejected_numbers.add(number)
        self.job.rejected_rows += 1

    def close_rejects(self) -> None:
        if self.rejects_file is not None:
            self.rejects_file.close()
            self.rejects_file = None
        if not self.job.rejected_rows:
            rejects_path(self.job).unlink(missing_ok=True)

    # --- the rows -------------------------------------------------------------------------

    def rows(self):
        return job_rows(stored_path(self.job), self.job.file_format, self.job.options)

    def batches(self, size: int):
        rows = self.rows()
        try:
            next(rows, None)  # the header
            batch: list[tuple[int, list]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= size:
                    yield batch
                    batch = []
            if batch:
                yield batch
        finally:
            rows.close()

    def user(self) -> User:
        return db.session.get(User, self.user_id)

    # --- check pass -----------------------------------------------------------------------

    def check(self) -> None:
        seen = SeenKeys()
        for batch in self.batches(self.batch_size):
            outcomes = check_batch(self.importer, batch, self.job.mapping, self.user(), seen,
                                   self.values)
            for outcome in outcomes:
                if outcome.error is not None:
                    self.reject(outcome.number, outcome.cells, outcome.error)
            self.job.processed_rows += len(batch)
            db.session.rollback()  # end the read transaction: nothing was written
            db.session.expunge_all()
            self.publish()

    # --- write pass -----------------------------------------------------------------------

    def write(self) -> None:
        seen = SeenKeys()
        with ChangeRecorder(db.session(), self.job.id) as recorder:
            for batch in self.batches(self.write_batch_size):
                batch = [row for row in batch if row[0] not in self.rejected_numbers]
                if batch:
                    self.write_batch(batch, seen, recorder)
                self.publish()
        # The last batches' rows in the planner's statistics too, whatever the size.
        if tables := sorted(table for table, count in self.inserted.items() if count):
            self.pause_before_lock()
            with writing():
                refresh_statistics(tables, connection=db.session.connection())
                db.session.commit()

    def pause_before_lock(self) -> None:
        """SQLite: let ``IMPORT_WRITE_PAUSE_MS`` pass since this import last held the
        write lock, so that other writers, whose busy handler polls every 100 ms at most,
        get it in between (it is not handed over fairly). Time spent checking the next
        batch counts: usually there is nothing left to wait."""
        if self.pause and self.released_at is not None:
            wait = self.released_at + self.pause - time.monotonic()
            if wait > 0:
                time.sleep(wait)

    def write_batch(self, batch, seen: SeenKeys, recorder: ChangeRecorder) -> None:
        """Check the batch again and write it in one transaction.

        SQLite: first optimistically, the check's reads without the write lock (a
        deferred BEGIN); the batch's first write asks for the lock, which SQLite grants
        only if nobody wrote since those reads began — else it refuses at once
        (:func:`lost_race`), and the batch is rolled back and done again the safe way,
        under the lock from its first read (BEGIN IMMEDIATE), as on a busy database.
        Either way what is written is what was checked against the database as it is."""
        if self.optimistic:
            journal = seen.journal()
            created = dict(recorder.created)
            try:
                outcomes, plans = self.attempt(batch, seen, recorder, locked=False)
            except OperationalError as error:
                if not lost_race(error):
                    raise
                db.session.rollback()
                db.session.expunge_all()
                seen.forget(journal)  # the batch's keys: it is checked again
                recorder.created.clear()
                recorder.created.update(created)
                self.lost_races += 1
                self.optimistic = False  # someone is writing: the next batch locks first
            else:
                self.written(batch, outcomes, plans)
                return
        else:
            self.optimistic = db.engine.dialect.name == "sqlite"  # try again next time
        self.pause_before_lock()
        with writing():  # SQLite: the write lock from the first read, for one short batch
            outcomes, plans = self.attempt(batch, seen, recorder, locked=True)
        self.written(batch, outcomes, plans)

    @contextmanager
    def paused_before_first_write(self, *, enabled: bool) -> Iterator[None]:
        """SQLite, optimistic attempt: :meth:`pause_before_lock` right before the
        transaction's first write statement, the one that takes the lock — after what
        the importer works out first (:func:`erp.imports.bulk.insert_records` builds its
        rows before inserting them), which then counts as the pause too, rather than
        before the importer is called (issue 15: 10 of 70 s of 100,000 rows were that
        sleep). Reads and the work between them stay outside the lock as before."""
        if not enabled or not self.pause:
            yield
            return
        connection = db.session.connection()
        pending = [True]

        def before_write(_conn, _cursor, statement, _parameters, _context, _many) -> None:
            if pending and statement.lstrip()[:6].upper() not in ("SELECT", "PRAGMA"):
                pending.clear()
                self.pause_before_lock()

        event.listen(connection, "before_cursor_execute", before_write)
        try:
            yield
        finally:
            event.remove(connection, "before_cursor_execute", before_write)

    def attempt(self, batch, seen: SeenKeys, recorder: ChangeRecorder, *, locked: bool):
        """Check and write ``batch``, and commit; returns the outcomes and the plans
        written. Nothing outside the transaction is touched (the rejects file, the
        counts): an optimistic attempt may be rolled back and done again."""
        outcomes = check_batch(self.importer, batch, self.job.mapping, self.user(), seen,
                                   self.values)
        failed = [o for o in outcomes if o.error is not None]
        if failed and self.all_or_nothing:
            first = failed[0]
            db.session.rollback()
            raise WriteFailed(_("Row %(row)d changed meaning while the import ran: "
                                "%(reason)s", row=first.number, reason=first.error))
        plans = [o.plan for o in outcomes if o.error is None]
        if plans:
            before = dict(recorder.created)  # write() may insert in bulk (bulk.py)
            with self.paused_before_first_write(enabled=not locked):
                self.importer.write([plan.payload for plan in plans], self.user())
                db.session.flush()
            self.refresh_statistics(Counter(
                {t: n - before.get(t, 0) for t, n in recorder.created.items()}))
        db.session.commit()  # the records and what the import did to them
        if plans or locked:
            self.released_at = time.monotonic()
        return outcomes, plans

    def written(self, batch, outcomes, plans) -> None:
        """A batch committed: its rejected rows (skip_invalid: someone saved a clashing
        record meanwhile) and the counts; the objects forgotten, memory stays bounded."""
        for outcome in outcomes:
            if outcome.error is not None:
                self.reject(outcome.number, outcome.cells, outcome.error)
        self.job.written_rows += len(batch)
        self.job.created_rows += sum(1 for p in plans if p.action == "create")
        self.job.updated_rows += sum(1 for p in plans if p.action != "create")
        self.job.heartbeat_at = utcnow()
        db.session.expunge_all()

    def refresh_statistics(self, inserted: Counter) -> None:
        """Query plans come from statistics: as an import grows a table, look-ups planned
        for the small table turn into scans. ANALYZE each time a table has doubled (a
        handful of times for 100,000 rows). Table names come from the models."""
        for table, count in inserted.items():
            total = self.inserted[table] = self.inserted[table] + count
            if count and total >= max(ANALYZE_AFTER_ROWS, 2 * self.analyzed_at[table]):
                refresh_statistics([table], connection=db.session.connection())
                self.analyzed_at[table] = total

    # --- the whole run --------------------------------------------------------------------

    def execute(self) -> None:
        job = self.job
        job.status, job.phase, job.started_at = RUNNING, CHECKING, utcnow()
        job.processed_rows = job.rejected_rows = job.created_rows = job.updated_rows = 0
        job.written_rows = 0
        job.worker = worker_name()
        job.total_rows = sum(1 for _row in self.rows()) - 1  # less the header
        self.publish()
        header = next(self.rows(), None)
        if header is None:
            raise UnreadableFile(_("The file has no rows."))
        self.open_rejects(header[1])
        try:
            self.check()
            if job.rejected_rows and self.all_or_nothing:
                job.status = REJECTED
                job.message = ngettext(
                    "Nothing was imported: %(num)d row was rejected. Correct it and upload "
                    "the file again, or import only the valid rows.",
                    "Nothing was imported: %(num)d rows were rejected. Correct them and "
                    "upload the file again, or import only the valid rows.", job.rejected_rows)
                return
            job.phase = WRITING
            self.publish()
            self.write()
        finally:
            self.close_rejects()
        job.status = DONE
        job.message = done_message(job.created_rows, job.updated_rows, job.rejected_rows)
        # Imported: the upload is no longer needed (the rejected rows have their file).
        stored_path(job).unlink(missing_ok=True)


def run_job(job_id: int, *, on_progress: Callable[[ImportJob], None] | None = None
            ) -> ImportJob:
    """Import a claimed (queued) job's file; returns the job, finished.

    Never raises for bad data or a database refusal: the job ends ``rejected`` or
    ``failed`` with a message, and what it had written is taken back.
    """
    with background_work(), _job_session() as jobs:
        job = jobs.get(ImportJob, job_id)
        if job is None:
            raise LookupError(f"no import job {job_id}")
        jobs.commit()  # end the read: the job's next write starts afresh
        importer = current_app.extensions["erp"].get(Importer, job.kind)
        user = db.session.get(User, job.user_id)
        # The audit trail records what the import writes (or takes back) as its user's.
        # Each cell is checked twice (check pass, write pass): pure parsers' results are
        # remembered for the second time (erp.validation.remembering).
        # SQLite: set for bulk writing (erp.db.bulk_work: no memory map, commits not
        # waiting for the disk), until the job's last commit below.
        with bulk_work(), force_locale(_locale(job.user_id)), acting_as(user), \
                remembering(), _older_objects_set_aside():
            try:
                if importer is None or not user or not (
                        importer.permission is None
                        or user.has_permission(importer.permission)):
                    job.status = FAILED
                    job.message = _("This import is not available to its user.")
                else:
                    _Run(job, jobs, importer, on_progress).execute()
            except (UnreadableFile, WriteFailed) as error:
                _fail(job, str(error.message))
            except SQLAlchemyError:
                log.exception("import %s refused by the database", job_id)
                _fail(job, _("The database refused the import (someone may have saved one "
                             "of these records meanwhile)."))
            except Exception:
                log.exception("import %s failed", job_id)
                _fail(job, _("The import failed unexpectedly."))
            finally:
                db.session.rollback()
                db.session.expunge_all()
        job.phase = None
        job.finished_at = job.finished_at or utcnow()
        _commit(jobs)  # synced, with everything the import committed before it
    if on_progress:
        on_progress(job)
    return job


@contextmanager
def _older_objects_set_aside() -> Iterator[None]:
    """While the import runs, the objects alive before it (the application: its modules,
    mappers, templates, some 10^5-10^6 objects) are out of the garbage collector's sight
    (gc.freeze): an import allocates so much that the collector runs a full collection
    every few thousand rows, and each walked all of them again (a sixth of the CPU time of
    20,000 rows). They go back to it afterwards, as they were."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _locale(user_id: int) -> str:
    user = db.session.get(User, user_id)
    return (user.locale if user else None) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _fail(job: ImportJob, message: str) -> None:
    """Take back what the job wrote (in ``db.session``), and say so on ``job`` (its
    own session: the caller commits it)."""
    db.session.rollback()
    db.session.expunge_all()
    with writing():
        deleted, restored = take_back(job.id)
        db.session.commit()
    job.status = FAILED
    job.message = message + " " + (
        ngettext("What had been written (%(num)d record) was removed again.",
                 "What had been written (%(num)d records) was removed again.",
                 deleted + restored)
        if deleted or restored else _("Nothing was imported."))
    job.created_rows = job.updated_rows = 0


# --- undo and crashed workers -----------------------------------------------------------


def undo(job: ImportJob) -> int:
    """Take back a finished import (the caller checked :func:`changes.blockers`); returns
    the number of records deleted or restored."""
    job_id = job.id
    db.session.commit()  # end any read: SQLite's write lock must come first
    with writing():
        deleted, restored = take_back(job_id)
        job = db.session.get(ImportJob, job_id)
        job.status, job.undone_at = UNDONE, utcnow()
        job.message = _("Undone: %(deleted)d records deleted, %(restored)d restored.",
                        deleted=deleted, restored=restored)
        db.session.commit()
    return deleted + restored


def _worker_is_gone(job: ImportJob, now) -> bool:
    stale_after = timedelta(seconds=int(current_app.config.get("IMPORT_STALE_AFTER_SECONDS",
                                                               120)))
    beat = job.heartbeat_at or job.started_at
    if beat is not None and beat.tzinfo is None:
        beat = beat.replace(tzinfo=now.tzinfo)
    if beat is None or now - beat > stale_after:
        return True
    host, _sep, pid = (job.worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False  # another machine's worker (only its silence tells), or this one
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reap_stale() -> int:
    """Fail every running job whose worker died, taking back what it wrote; returns how
    many. Run when a worker starts and every minute."""
    reaped = 0
    with _job_session() as jobs:
        running = jobs.scalars(select(ImportJob).where(ImportJob.status == RUNNING)).all()
        jobs.commit()
        now = utcnow()
        for job in running:
            if not _worker_is_gone(job, now):
                continue
            with writing():  # claim it: one reaper per job, and not a job that moved on
                claimed = jobs.execute(
                    update(ImportJob).where(ImportJob.id == job.id, ImportJob.status == RUNNING,
                                            ImportJob.heartbeat_at.is_(None)
                                            if job.heartbeat_at is None
                                            else ImportJob.heartbeat_at == job.heartbeat_at)
                    .values(heartbeat_at=now).execution_options(synchronize_session=False)
                ).rowcount
                jobs.commit()
            if not claimed:
                continue
            log.warning("import %s: its worker %s stopped; taking back", job.id, job.worker)
            with force_locale(_locale(job.user_id)):
                done = job.written_rows if job.phase == WRITING else job.processed_rows
                _fail(job, _("The import stopped: the background worker ended while it ran "
                             "(row %(row)d of %(total)d). You can run it again.",
                             row=done, total=job.total_rows or 0))
            job.phase, job.finished_at = None, utcnow()
            _commit(jobs)
            reaped += 1
    return reaped
