"""Unfinished opportunity forms, kept per user (seed 002: "Salvar rascunho")."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from erp.auth.models import User
from erp.db import TimestampMixin, db

from .pipeline import Opportunity


class OpportunityDraft(TimestampMixin, db.Model):
    __tablename__ = "crm_opportunity_draft"
    __table_args__ = (Index("ix_crm_opportunity_draft_user_updated", "user_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id, ondelete="CASCADE"))
    # Set when the draft edits an existing opportunity; None for a new one.
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey(Opportunity.id, ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)  # the form's fields, as typed
