from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import db


class Tag(db.Model):
    """A label ("marcador") put on accounts and opportunities; managed in settings."""

    __tablename__ = "crm_tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    color: Mapped[str] = mapped_column(String(7), default="#6c757d")

    def __str__(self) -> str:
        return self.name
