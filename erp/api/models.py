"""Per-user API tokens: only a hash is stored; the token is shown once, when created."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import db, utcnow


class ApiToken(db.Model):
    __tablename__ = "erp_api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(80))
    # The first characters of the token, kept in clear so the user can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the whole token: tokens are long random strings, so a slow hash adds nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
