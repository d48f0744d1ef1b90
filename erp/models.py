"""The host's own bookkeeping tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import db, utcnow


class InstalledModule(db.Model):
    """A module as last seen by ``flask upgrade``: shown to admins, and remembers
    which modules were installed before (their default permissions are granted once)."""

    __tablename__ = "erp_module"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    version: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(String(255), default="")
    depends: Mapped[str] = mapped_column(String(255), default="")
    origin: Mapped[str] = mapped_column(String(512), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class NumberSequence(db.Model):
    """The last number given in each sequence of document numbers, by key
    ("sales.invoice", "service.order"): read and advanced only by
    :func:`erp.documents.next_number`."""

    __tablename__ = "erp_sequence"

    key: Mapped[str] = mapped_column(String(63), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)

    def __str__(self) -> str:
        return f"{self.key} {self.last}"
