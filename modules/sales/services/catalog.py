"""The catalog: products and services with their list price (sales.catalog.write)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select

from erp.db import db
from erp.i18n import module_i18n
from erp.validation import LIKE_ESCAPE, Errors, choice, like, money, text

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


# The line forms list the whole active catalog in each row's select (what works without
# JavaScript) up to this many products; a larger catalog is searched through the picker's
# endpoint (views/catalog.py: pick_products), the rows listing only their own products.
INLINE_PRODUCTS_MAX = 200
PICK_LIMIT, PICK_LIMIT_MAX = 20, 50


def product_search(query: str):
    """The WHERE clause of a catalog search: code or name containing ``query`` (a typed %
    or _ is itself, not a wildcard); the products list and the picker share it."""
    pattern = like(query)
    return or_(Product.code.ilike(pattern, escape=LIKE_ESCAPE),
               Product.name.ilike(pattern, escape=LIKE_ESCAPE))


def pick_products(query: str = "", *, limit: int = PICK_LIMIT, page: int = 1
                  ) -> tuple[list[Product], bool]:
    """One page of the active catalog for a line's picker, by code, matching ``query``;
    and whether there are more. Only active products: an inactive one stays on the lines
    that have it, but is no longer offered."""
    limit = max(1, min(limit, PICK_LIMIT_MAX))
    stmt = select(Product).where(Product.active.is_(True))
    if query.strip():
        stmt = stmt.where(product_search(query.strip()))
    found = list(db.session.scalars(stmt.order_by(Product.code, Product.id)
                                    .offset((page - 1) * limit).limit(limit + 1)))
    return found[:limit], len(found) > limit


def line_products(selected_ids=()) -> list[Product]:
    """The products a line form's selects list: the whole active catalog when it is small
    (INLINE_PRODUCTS_MAX), else none of it (the picker searches it); always the products
    the lines already have (``selected_ids``), inactive ones included, so that editing a
    quote keeps them."""
    products = list(db.session.scalars(
        select(Product).where(Product.active.is_(True)).order_by(Product.code, Product.id)
        .limit(INLINE_PRODUCTS_MAX + 1)))
    if len(products) > INLINE_PRODUCTS_MAX:
        products = []
    have = {product.id for product in products}
    wanted = {pid for pid in selected_ids if pid is not None and pid not in have}
    if wanted:
        products += db.session.scalars(select(Product).where(Product.id.in_(wanted))
                                       .order_by(Product.code))
    return products
