"""The catalog's pages: the products list and the product form (sales.catalog.write)."""

from __future__ import annotations

from flask import jsonify, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from erp.auth import permission_required
from erp.db import db
from erp.forms import form_view, page_arg, page_size
from erp.i18n import module_i18n, money, number
from erp.params import int_arg

from .. import services
from ..forms.catalog import ProductForm
from ..labels import KIND_LABELS
from ..models import PRODUCT_KINDS, Product
from ..permissions import CATALOG_WRITE, READ
from . import bp

_ = module_i18n(__name__).gettext


@bp.route("/products")
@permission_required(READ)
def products():
    stmt = select(Product)
    query = request.args.get("q", "").strip()
    if query:
        stmt = stmt.where(services.product_search(query))
    kind = request.args.get("kind", "")
    if kind in PRODUCT_KINDS:
        stmt = stmt.where(Product.kind == kind)
    if request.args.get("inactive") != "1":
        stmt = stmt.where(Product.active.is_(True))
    pagination = db.paginate(stmt.order_by(Product.code), page=page_arg(),
                             per_page=page_size(), error_out=False)
    return render_template("sales/products.html", pagination=pagination, kinds=KIND_LABELS,
                           can_write=current_user.has_permission(CATALOG_WRITE))


@bp.route("/products/new", methods=["GET", "POST"])
@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@permission_required(CATALOG_WRITE)
def product_form(product_id: int | None = None):
    """The shared catalog: sales.catalog.write (managers), not sales.write (every rep)."""
    product = db.get_or_404(Product, product_id) if product_id else None
    form = ProductForm(obj=product)
    if request.method == "GET" and product is not None:
        form.price.data = f"{product.price:.2f}"

    def save(form):
        if product is None:
            return services.create_product(form.service_data())
        return services.update_product(product, form.service_data())

    return form_view(form, save=save, template="sales/product_form.html",
                     success=(_("Product saved."), url_for("sales.products")), product=product)


@bp.route("/products/pick")
@permission_required(READ)
def pick_products():
    """The line pickers' search (issue 17): a page of the active catalog as JSON, by code
    or name (?q=), ``limit`` at most PICK_LIMIT_MAX (?page= for the next ones). Behind the
    login and sales.read, as the products list; the catalog is shared, not per account:
    what it holds is the active products' public fields."""
    query = request.args.get("q", "")[:200]
    limit = int_arg("limit", services.PICK_LIMIT, max=services.PICK_LIMIT_MAX)
    found, more = services.pick_products(query, limit=limit, page=page_arg())
    return jsonify(results=[{
        "id": product.id, "code": product.code, "name": product.name,
        "kind": product.kind, "kind_label": str(KIND_LABELS.get(product.kind, product.kind)),
        "label": str(product),
        "price": f"{product.price:.2f}",  # as the API has it
        "price_text": money(product.price),  # as people read it: R$ 1.234,56
        "price_input": number(product.price, 2),  # as a form field takes it: 1.234,56
    } for product in found], more=more)


def catalog_picker_url() -> str | None:
    """The template global ``sales_catalog_picker_url()``: the address of pick_products for a
    user who may read the catalog, else None. The deal form's items (CRM, which knows no
    sales) offer a catalog picker when it is defined and gives an address (issue 17)."""
    if not current_user.is_authenticated or not current_user.has_permission(READ):
        return None
    return url_for("sales.pick_products")
