"""The catalog: products and services with their list price (sales.catalog.write)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from erp.db import db
from erp.i18n import module_i18n
from erp.validation import Errors, choice, money, text

from ..models import PRODUCT_KINDS, Product

_l = module_i18n(__name__).lazy_gettext


def clean_product(data: Mapping[str, Any], *, current: Product | None = None) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    out["code"] = errors.clean("code", text, data.get("code"), required=True, max_length=40,
                               message=_l("Give the product a code."))
    if out["code"]:
        clash = db.session.scalar(select(Product.id).where(Product.code == out["code"]))
        if clash is not None and (current is None or clash != current.id):
            errors.add("code", _l("Another product already has this code."))
    out["name"] = errors.clean("name", text, data.get("name"), required=True, max_length=200,
                               message=_l("Give the product a name."))
    out["kind"] = errors.clean("kind", choice, data.get("kind"), choices=PRODUCT_KINDS,
                               message=_l("Choose product or service.")) or PRODUCT_KINDS[0]
    out["price"] = errors.clean("price", money, data.get("price"),
                                message=_l("Use a price such as 1.234,56.")) or Decimal("0.00")
    out["active"] = bool(data.get("active", True))
    errors.raise_if_any()
    return out


def create_product(data: Mapping[str, Any]) -> Product:
    product = Product(**clean_product(data))
    db.session.add(product)
    db.session.commit()
    return product


def update_product(product: Product, data: Mapping[str, Any]) -> Product:
    values = clean_product(data, current=product)
    for key, value in values.items():
        setattr(product, key, value)
    db.session.commit()
    return product


def active_products() -> list[Product]:
    return list(db.session.scalars(
        select(Product).where(Product.active.is_(True)).order_by(Product.code)))
