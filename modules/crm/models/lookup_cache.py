"""The cache of CNPJ look-ups: one row per company id, the last answer of the public registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import db, utcnow


class CnpjLookup(db.Model):
    """The normalized registry data of one CNPJ, as ``CompanyData.to_dict()`` returns it."""

    __tablename__ = "crm_cnpj_lookup"

    # 14 characters, upper-case letters and digits only (CNPJs may be alphanumeric from 2026).
    cnpj: Mapped[str] = mapped_column(String(14), primary_key=True)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    fetched_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    def __repr__(self) -> str:
        return f"<CnpjLookup {self.cnpj} {self.provider} {self.fetched_at:%Y-%m-%d}>"
