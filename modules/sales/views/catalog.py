"""The catalog's pages: the products list and the product form (sales.catalog.write)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from erp.auth import permission_required
from erp.db import db
from erp.forms import form_view, page_arg, page_size
from erp.i18n import module_i18n
from erp.validation import LIKE_ESCAPE, like

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
        pattern = like(query)  # a typed % or _ is itself, not a wildcard
        stmt = stmt.where(or_(Product.code.ilike(pattern, escape=LIKE_ESCAPE),
                              Product.name.ilike(pattern, escape=LIKE_ESCAPE)))
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
