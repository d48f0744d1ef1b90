"""Things that happened to an account itself, for its timeline (issue 17): "account
created" (by a form, the API or an import: ``source``); other helpers may add kinds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from erp.auth.models import User
from erp.db import db, utcnow

from .account import Account

EVENT_CREATED = "created"


class AccountEvent(db.Model):
    __tablename__ = "crm_account_event"
    # Undoing an import deletes the accounts it created and their events with them (ON
    # DELETE CASCADE): an event is no record "referring to" such an account that would
    # block the undo (erp.imports.changes.blockers).
    __import_undo_follows__ = True
    __table_args__ = (
        # The timeline's page: one account's newest events first (keyset on at, id).
        Index("ix_crm_account_event_account_at", "account_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id, ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id, ondelete="SET NULL"))
    source: Mapped[str | None] = mapped_column(String(10))  # "web", "api", "import"
