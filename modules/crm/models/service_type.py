"""The kinds of attendance an opportunity is followed up as (seed 002, "Tipo de
atendimento"): a list the company configures in Administration (crm 0020, issue 17).

Named as the company writes them (company data, not translated); the inactive ones stay
on the opportunities that have them but are not offered for new ones; one of them may be
the default ("Tipo de atendimento padrão para vendas"), suggested on a new opportunity.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import db


class ServiceType(db.Model):
    __tablename__ = "crm_service_type"
    __table_args__ = (
        # At most one default: a unique index over the rows that are it.
        Index("ix_crm_service_type_default", "is_default", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    def __str__(self) -> str:
        return self.name
