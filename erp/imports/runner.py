"""Running an import: every row checked, valid ones written in batches, one transaction.

* **One transaction.** Batches are flushed (``IMPORT_BATCH_SIZE`` rows at a time) and the
  session is emptied after each, so memory stays bounded; the commit comes at the end.
  All-or-nothing (the default): the first rejected row rolls back what was flushed and
  nothing more is written, but the remaining rows are still checked so the rejects file
  lists every problem. With ``skip_invalid`` the valid rows are committed, the rest skipped.
  A crash or a database refusal rolls everything back: never half an import.
* **Progress.** The counts live on the job row, written through a session of their own so
  the page that polls can read them while the import's transaction is open. SQLite has a
  single writer: while the import holds it, the counts are kept in this process (see
  :func:`live_counts`) and reach the row when the import commits or rolls back.
* **Rejected rows** go to a CSV beside the upload: the original columns plus ``reason``.
  Once imported, the upload itself is deleted.
"""

from __future__ import annotations

import csv
import logging
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..auth.models import User
from ..db import db, utcnow
from .contract import Importer, cell_text
from .models import DONE, FAILED, REJECTED, RUNNING, ImportJob
from .reading import FORMAT_CSV, UnreadableFile, numbered_rows
from .rows import SeenKeys, check_batch

log = logging.getLogger(__name__)

ANALYZE_AFTER_ROWS = 2000
_live: dict[int, dict] = {}
_live_lock = threading.Lock()


def live_counts(job_id: int) -> dict | None:
    """The latest counts of an import running in this process, or None."""
    with _live_lock:
        counts = _live.get(job_id)
        return dict(counts) if counts else None


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


class _Run:
    def __init__(self, job: ImportJob, jobs: Session, importer: Importer,
                 on_progress: Callable[[ImportJob], None] | None):
        self.job, self.jobs, self.importer = job, jobs, importer
        self.on_progress = on_progress
        self.user_id = job.user_id
        self.batch_size = max(1, int(current_app.config.get("IMPORT_BATCH_SIZE", 500)))
        self.all_or_nothing = not job.skip_invalid
        self.single_writer = db.engine.dialect.name == "sqlite"
        self.holding_writes = False  # the import's transaction has flushed rows
        self.seen = SeenKeys()
        self.rejects = None
        self.rejects_file = None
        self.inserted: Counter = Counter()  # rows inserted per table, for refresh_statistics
        self.analyzed_at: Counter = Counter()

    # --- progress -------------------------------------------------------------------------

    def publish(self) -> None:
        job = self.job
        with _live_lock:
            _live[job.id] = {
                "status": job.status, "total_rows": job.total_rows,
                "processed_rows": job.processed_rows, "rejected_rows": job.rejected_rows,
                "created_rows": job.created_rows, "updated_rows": job.updated_rows}
        if not (self.single_writer and self.holding_writes):
            self.jobs.commit()
        if self.on_progress:
            self.on_progress(job)

    # --- rejected rows --------------------------------------------------------------------

    def open_rejects(self, header: list) -> None:
        path = rejects_path(self.job)
        self.rejects_file = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self.rejects = csv.writer(self.rejects_file, delimiter=rejects_delimiter(self.job))
        self.width = len(header)
        self.rejects.writerow([cell_text(c) for c in header] + [_("reason")])

    def reject(self, number: int, cells: list, reason: str) -> None:
        texts = [cell_text(c) for c in cells]
        texts += [""] * (self.width - len(texts))
        self.rejects.writerow(texts + [_("Row %(row)d: %(reason)s", row=number, reason=reason)])
        self.job.rejected_rows += 1

    def close_rejects(self) -> None:
        if self.rejects_file is not None:
            self.rejects_file.close()
            self.rejects_file = None
        if not self.job.rejected_rows:
            rejects_path(self.job).unlink(missing_ok=True)

    # --- the rows -------------------------------------------------------------------------

    def count_rows(self) -> int:
        return sum(1 for _row in self.rows()) - 1  # less the header

    def rows(self):
        options = self.job.options or {}
        return numbered_rows(stored_path(self.job), self.job.file_format,
                             options.get("encoding"), options.get("delimiter"))

    def discard_writes(self) -> None:
        """All-or-nothing and a row failed: drop what was flushed, write no more."""
        if self.holding_writes:
            db.session.rollback()
            self.holding_writes = False
        self.job.created_rows = self.job.updated_rows = 0

    def process(self, batch: list[tuple[int, list]]) -> None:
        user = db.session.get(User, self.user_id)
        outcomes = check_batch(self.importer, batch, self.job.mapping, user, self.seen)
        plans = []
        for outcome in outcomes:
            if outcome.error is not None:
                self.reject(outcome.number, outcome.cells, outcome.error)
            else:
                plans.append(outcome.plan)
        self.job.processed_rows += len(batch)
        if self.job.rejected_rows and self.all_or_nothing:
            self.discard_writes()
            plans = []
        if plans:
            self.importer.write([plan.payload for plan in plans], user)
            inserted = Counter(obj.__table__.name for obj in db.session.new
                               if hasattr(obj, "__table__"))
            db.session.flush()
            self.refresh_statistics(inserted)
            self.holding_writes = True
            self.job.created_rows += sum(1 for p in plans if p.action == "create")
            self.job.updated_rows += sum(1 for p in plans if p.action != "create")
        db.session.expunge_all()  # what was flushed is in the database: forget the objects
        self.publish()

    def refresh_statistics(self, inserted: Counter) -> None:
        """PostgreSQL plans from statistics that do not count the rows this (still open)
        transaction inserted: as a large import grows a table, each batch's look-ups would
        turn into sequential scans, every batch slower than the last. ANALYZE inside the
        transaction does count them; it runs each time a table has doubled (a handful of
        times for 100,000 rows). Table names come from the models, never from input."""
        if db.engine.dialect.name != "postgresql":
            return
        quote = db.engine.dialect.identifier_preparer.quote
        for table, count in inserted.items():
            total = self.inserted[table] = self.inserted[table] + count
            if total >= max(ANALYZE_AFTER_ROWS, 2 * self.analyzed_at[table]):
                db.session.execute(text(f"ANALYZE {quote(table)}"))
                self.analyzed_at[table] = total

    def execute(self) -> None:
        job = self.job
        job.status, job.started_at = RUNNING, utcnow()
        job.processed_rows = job.rejected_rows = job.created_rows = job.updated_rows = 0
        job.total_rows = self.count_rows()
        self.publish()
        rows = self.rows()
        first = next(rows, None)
        if first is None:
            raise UnreadableFile(_("The file has no rows."))
        self.open_rejects(first[1])
        try:
            batch: list[tuple[int, list]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= self.batch_size:
                    self.process(batch)
                    batch = []
            if batch:
                self.process(batch)
        finally:
            self.close_rejects()
        if job.rejected_rows and self.all_or_nothing:
            self.discard_writes()
            job.status = REJECTED
            job.message = ngettext(
                "Nothing was imported: %(num)d row was rejected. Correct it and upload the "
                "file again, or import only the valid rows.",
                "Nothing was imported: %(num)d rows were rejected. Correct them and upload the "
                "file again, or import only the valid rows.", job.rejected_rows)
        else:
            db.session.commit()
            self.holding_writes = False
            job.status = DONE
            job.message = _("%(created)d created, %(updated)d updated, %(rejected)d skipped.",
                            created=job.created_rows, updated=job.updated_rows,
                            rejected=job.rejected_rows)
            # Imported: the upload is no longer needed (the rejected rows have their file).
            stored_path(job).unlink(missing_ok=True)
        job.finished_at = utcnow()


def run_job(job_id: int, *, on_progress: Callable[[ImportJob], None] | None = None
            ) -> ImportJob:
    """Import a claimed (queued) job's file; returns the job, finished.

    Never raises for bad data or a database refusal: the job ends ``rejected`` or
    ``failed`` with a message, and nothing is written.
    """
    with Session(db.engine, expire_on_commit=False) as jobs:
        job = jobs.get(ImportJob, job_id)
        if job is None:
            raise LookupError(f"no import job {job_id}")
        importer = current_app.extensions["erp"].get("importer", job.kind)
        user = db.session.get(User, job.user_id)
        locale = (user.locale if user else None) or current_app.config["BABEL_DEFAULT_LOCALE"]
        with force_locale(locale):
            run = _Run(job, jobs, importer, on_progress) if importer else None
            try:
                if run is None or not user or not (
                        importer.permission is None or user.has_permission(importer.permission)):
                    job.status = FAILED
                    job.message = _("This import is not available to its user.")
                else:
                    run.execute()
            except UnreadableFile as error:
                _fail(job, str(error.message))
            except SQLAlchemyError:
                log.exception("import %s refused by the database", job_id)
                _fail(job, _("The database refused the import (someone may have saved one of "
                             "these records meanwhile). Nothing was imported."))
            except Exception:
                log.exception("import %s failed", job_id)
                _fail(job, _("The import failed unexpectedly. Nothing was imported."))
            finally:
                db.session.rollback()  # no-op after a commit; drops a failed run's writes
                db.session.expunge_all()
        job.finished_at = job.finished_at or utcnow()
        jobs.commit()
        with _live_lock:
            _live.pop(job.id, None)
        if on_progress:
            on_progress(job)
        return job


def _fail(job: ImportJob, message: str) -> None:
    job.status = FAILED
    job.message = message
    job.created_rows = job.updated_rows = 0
