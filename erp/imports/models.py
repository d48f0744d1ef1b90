"""One spreadsheet import: its file, mapping, options, status and counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import TimestampMixin, db

# new: uploaded, mapping not confirmed; ready: mapped, may be started; queued/running: the
# import runs; done: committed; rejected: rows failed in all-or-nothing mode, nothing written;
# failed: an unexpected error, nothing written.
NEW, READY, QUEUED, RUNNING, DONE, REJECTED, FAILED = (
    "new", "ready", "queued", "running", "done", "rejected", "failed")
STARTABLE = (READY, REJECTED)
ACTIVE = (QUEUED, RUNNING)
FINISHED = (DONE, REJECTED, FAILED)


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
        if self.status in (DONE,):
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(100 * self.processed_rows / self.total_rows))
