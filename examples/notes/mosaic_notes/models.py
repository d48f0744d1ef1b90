"""A note: free text written by a user on an account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.db import db, utcnow
from modules.crm.models import Account


class Note(Audited, db.Model):  # Audited: every change goes to the audit trail
    __tablename__ = "notes_note"  # table names start with the module's name
    __table_args__ = (
        # The timeline's keyset query: WHERE account_id = ? AND (created_at, id) < cursor
        # ORDER BY created_at DESC, id DESC — a range scan of this index.
        Index("ix_notes_note_account_created", "account_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id, ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey(User.id))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    account: Mapped[Account] = relationship()
    author: Mapped[User] = relationship()

    def __str__(self) -> str:
        return self.body[:40]
