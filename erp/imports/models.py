"""One spreadsheet import: its file, mapping, options, status and counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import TimestampMixin, db

# new: uploaded, mapping not confirmed; ready: mapped, may be started; queued: waiting for
# the worker; running: checking every row, then writing; done: written; rejected: rows
# failed in all-or-nothing mode, nothing written; failed: an error or a worker that died,
# and what had been written was removed; undone: written, then taken back by "Undo".
NEW, READY, QUEUED, RUNNING, DONE, REJECTED, FAILED, UNDONE = (
    "new", "ready", "queued", "running", "done", "rejected", "failed", "undone")
STARTABLE = (READY, REJECTED, FAILED)
ACTIVE = (QUEUED, RUNNING)
FINISHED = (DONE, REJECTED, FAILED, UNDONE)
# The two passes of a running job (``phase``).
CHECKING, WRITING = "checking", "writing"
CREATE, UPDATE = "create", "update"


class ImportJob(TimestampMixin, db.Model):
    __tablename__ = "erp_import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[str] = mapped_column(String(63))  # the importer's key
    file_name: Mapped[str] = mapped_column(String(255))  # as uploaded, for display only
    # The stored copy, relative to IMPORT_FOLDER; a random name, never the uploaded one.
    stored_name: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(8))  # "csv" or "xlsx"
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)  # field name -> column index
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # encoding, delimiter, skip_invalid
    status: Mapped[str] = mapped_column(String(12), default=NEW)
    total_rows: Mapped[int | None] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    rejected_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_rows: Mapped[int] = mapped_column(Integer, default=0)
    updated_rows: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # While running: which pass, rows written so far, and the worker's sign of life
    # ("host:pid", refreshed after every batch) so a worker that died is noticed.
    phase: Mapped[str | None] = mapped_column(String(12))
    written_rows: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(120))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    def __str__(self) -> str:
        return f"{self.kind}: {self.file_name}"

    @property
    def skip_invalid(self) -> bool:
        return bool((self.options or {}).get("skip_invalid"))

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int:
        """Of the current pass: the rows checked, then (phase "writing") the rows written."""
        if self.status in (DONE, UNDONE):
            return 100
        if not self.total_rows:
            return 0
        done = self.written_rows if self.phase == WRITING else self.processed_rows
        return min(100, int(100 * (done or 0) / self.total_rows))


class ImportChange(db.Model):
    """A record an import created or changed: what "Undo this import" takes back.

    Written in the same transaction as the change itself. ``values`` holds, for an
    update, ``{attribute: [before, after]}`` (see :mod:`erp.imports.changes` for how
    values are encoded); for a creation, nothing.
    """

    __tablename__ = "erp_import_change"
    __table_args__ = (Index("ix_erp_import_change_record", "table_name", "record_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("erp_import_job.id", ondelete="CASCADE"), index=True)
    table_name: Mapped[str] = mapped_column(String(63))
    record_key: Mapped[str] = mapped_column(String(63))  # the primary key, "12" or "12,3"
    action: Mapped[str] = mapped_column(String(8))  # "create" or "update"
    values: Mapped[dict | None] = mapped_column(JSON)
