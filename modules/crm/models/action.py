"""Actions ("ações"): what was done or must be done with an account or opportunity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.auth.models import User
from erp.db import TimestampMixin, db

from .account import Account
from .contact import Contact
from .pipeline import Opportunity

ACTION_KINDS = ("call", "email", "meeting", "visit", "task", "note", "proposal")


class Action(TimestampMixin, db.Model):
    __tablename__ = "crm_action"
    __table_args__ = (
        Index("ix_crm_action_account_at", "account_id", "at", "id"),
        # The account page's "Last contact": the newest done, kept action, one index seek
        # (the (account_id, at) index walked every planned action in the future first).
        Index("ix_crm_action_account_done_at", "account_id", "done", "archived", "at"),
        Index("ix_crm_action_user_done_at", "user_id", "done", "at"),
        # The home page's agenda: a user's planned, kept actions up to tomorrow, counted
        # from the index alone (crm 0010, issue 15); with the kind, the actions report's
        # counts by user, kind and status over a period too (crm 0011).
        Index("ix_crm_action_user_open", "user_id", "done", "archived", "at", "kind"),
        Index("ix_crm_action_opportunity_at", "opportunity_id", "at"),
        # The actions report over everyone's actions in a period (admins, "all" scope).
        Index("ix_crm_action_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id, ondelete="CASCADE"))
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey(Opportunity.id, ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when done, or planned for
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey(Contact.id, ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="")  # "o parecer"
    done: Mapped[bool] = mapped_column(Boolean, default=True)
    # For e-mails written from the CRM: who it went to and its subject.
    email_to: Mapped[str | None] = mapped_column(String(255))
    email_subject: Mapped[str | None] = mapped_column(String(255))
    # Archived actions are kept (the API's archive) but left out of the timeline and agenda.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)
    opportunity: Mapped[Opportunity | None] = relationship()
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    contact: Mapped[Contact | None] = relationship()

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d}"
