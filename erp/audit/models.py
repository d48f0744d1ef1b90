"""One audit entry: a record created, changed or deleted, by whom, when, field by field."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import db, utcnow

CREATE, UPDATE, DELETE = "create", "update", "delete"
ACTIONS = (CREATE, UPDATE, DELETE)


class AuditEntry(db.Model):
    """Written by :mod:`erp.audit.recorder` in the transaction of the change itself.

    The record is named by its table and primary key (``"12"``, or ``"12,3"`` for a
    composite key) and by the label it had then — no foreign key to it, so the entry
    outlives the record. ``changes`` holds ``{attribute: [old, new]}`` with the values as
    text (``null`` for empty): for a creation the values set, for a deletion the values it
    had. The user is kept by id (``NULL`` once deleted, or for the system) and by name.
    A record may name a parent (a payment its receivable), whose history then shows it.
    """

    __tablename__ = "erp_audit_entry"
    __table_args__ = (
        # A record's history, newest first: a backward range scan of one of these two.
        Index("ix_erp_audit_entry_record", "table_name", "record_id", "id"),
        Index("ix_erp_audit_entry_parent", "parent_table", "parent_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey(User.id, ondelete="SET NULL"), index=True)
    user_name: Mapped[str | None] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(8))
    table_name: Mapped[str] = mapped_column(String(63))
    record_id: Mapped[str] = mapped_column(String(63))
    record_label: Mapped[str] = mapped_column(String(200), default="")
    parent_table: Mapped[str | None] = mapped_column(String(63))
    parent_id: Mapped[str | None] = mapped_column(String(63))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.action} {self.table_name} {self.record_id}"
