"""/sales/products: the catalog — list and read (sales.read), create and update
(sales.catalog.write: a price changes every later quote, so it is a manager's decision)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import or_, select

from erp.api import Blueprint
from erp.api.etags import sends_etag
from erp.api.paging import keyset_page
from erp.db import db
from erp.validation import LIKE_ESCAPE, like

from .. import services
from ..models import Product
from ..permissions import CATALOG_WRITE, READ
from . import schemas as s
from .common import reads_record, requires, service_errors, writes_record, writing

blp = Blueprint("sales-products", __name__, description=(
    "The catalog: products and services with their list prices, offered on quotes and "
    "orders. Changing it needs sales.catalog.write (managers)."))


def _product_or_404(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    return product


@blp.route("/sales/products", methods=["GET"])
@requires(blp, READ)
@blp.arguments(s.ProductListArgsSchema, location="query")
@blp.response(200, s.ProductPageSchema)
def list_products(args):
    """List products

    The catalog (shared by everyone), in id order, paged (`after` = the previous page's
    `next_cursor`). Filters combine.
    """
    statement = select(Product)
    if query := args.get("q", "").strip():
        pattern = like(query)  # a typed % or _ is itself, not a wildcard
        statement = statement.where(or_(Product.code.ilike(pattern, escape=LIKE_ESCAPE),
                                        Product.name.ilike(pattern, escape=LIKE_ESCAPE)))
    if "kind" in args:
        statement = statement.where(Product.kind == args["kind"])
    if "active" in args:
        statement = statement.where(Product.active.is_(args["active"]))
    return keyset_page(statement, Product.id, args)


@blp.route("/sales/products", methods=["POST"])
@requires(blp, CATALOG_WRITE)
@blp.arguments(s.ProductCreateSchema)
@blp.response(201, s.ProductSchema)
@sends_etag
def create_product(data):
    """Create a product

    Its code must be unique (422 otherwise); kind `product` unless said.
    """
    with service_errors():
        return services.create_product(data)


@blp.route("/sales/products/<int:product_id>", methods=["GET"])
@requires(blp, READ)
@blp.response(200, s.ProductSchema)
@reads_record(blp)
def get_product(product_id: int):
    """Read a product

    Its `ETag` is its `version`: send it back as `If-Match` when you update it.
    """
    return _product_or_404(product_id)


@blp.route("/sales/products/<int:product_id>", methods=["PATCH"])
@requires(blp, CATALOG_WRITE)
@blp.arguments(s.ProductUpdateSchema)
@blp.response(200, s.ProductSchema)
@writes_record(blp)
def update_product(data, product_id: int):
    """Update a product

    Only the fields sent change. `If-Match` (412) or `version` (409) refuse a write made
    from a stale read.
    """
    product = _product_or_404(product_id)
    current = {"code": product.code, "name": product.name, "kind": product.kind,
               "price": product.price, "active": product.active}
    with writing(product, data):
        return services.update_product(product, {**current, **data})
