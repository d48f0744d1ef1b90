"""The merge log (crm 0017, issue 18): one row per merge of two accounts or two contacts,
with what the undo needs to restore both exactly."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.auth.models import User
from erp.db import db, utcnow

KIND_ACCOUNT, KIND_CONTACT = "account", "contact"


class MergeLog(db.Model):
    """``data`` holds the two records' rows as they were before the merge (``survivor``,
    ``merged``: column -> value as JSON text), the survivor's fields the merge set
    (``picked``) and its version after it, and each handler's log of what it moved
    (``moves``: handler key -> its log). No foreign key to the records: the log names
    them by id, as the audit trail does."""

    __tablename__ = "crm_merge"
    __table_args__ = (
        # A survivor's merges (its page's Undo, its timeline), newest first.
        Index("ix_crm_merge_survivor", "kind", "survivor_id", "at", "id"),
        # The record merged away: its URL leads to the survivor, with the merge's notice.
        Index("ix_crm_merge_merged", "kind", "merged_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # KIND_ACCOUNT or KIND_CONTACT
    survivor_id: Mapped[int] = mapped_column(Integer)
    merged_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id, ondelete="SET NULL"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey(User.id, ondelete="SET NULL"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
