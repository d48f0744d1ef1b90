"""The catalog: products and services, with their list prices."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import TimestampMixin, db
from erp.money import Money

KIND_PRODUCT, KIND_SERVICE = "product", "service"
PRODUCT_KINDS = (KIND_PRODUCT, KIND_SERVICE)


class Product(TimestampMixin, db.Model):
    """A product or a service of the catalog, with its list price."""

    __tablename__ = "sales_product"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default=KIND_PRODUCT)
    price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # The API's ETag: grows by one at every save (sales 0004).
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"
