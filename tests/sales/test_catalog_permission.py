"""The shared product catalog is edited with sales.catalog.write (managers and admins by
default), not sales.write: every rep writes quotes, but one rep's price change would change
every other rep's next quote. Reps (and finance) keep reading the catalog."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import select

from erp.auth.models import Role
from erp.db import db
from erp.setup import upgrade_database
from modules.sales import services
from modules.sales.models import Product
from modules.sales.permissions import CATALOG_WRITE
from tests.conftest import csrf_token, login_as

NEW = "/sales/products/new"


def make_product(app, **data) -> int:
    with app.app_context():
        product = services.create_product({"code": "CAD-1", "name": "Cadeira",
                                           "price": "100,00", **data})
        product_id = product.id
        db.session.remove()
    return product_id


def product_form(client, url: str, **fields):
    data = {"csrf_token": csrf_token(client, "/auth/preferences"), "code": "MES-1",
            "name": "Mesa", "kind": "product", "price": "250,00", "active": "y"}
    data.update(fields)
    return client.post(url, data=data)


def test_seeded_roles_managers_write_the_catalog_reps_and_finance_do_not(app, users):
    with app.app_context():
        roles = {r.name: set(r.permissions) for r in db.session.scalars(select(Role))}
    assert CATALOG_WRITE in roles["sales_manager"]
    assert {"sales.read", "sales.write"} <= roles["sales_rep"]
    assert CATALOG_WRITE not in roles["sales_rep"] | roles["finance"] | roles["service"]


def test_a_rep_reads_the_catalog_but_cannot_add_or_change_a_product(app, client, users):
    product_id = make_product(app)
    edit = f"/sales/products/{product_id}/edit"
    for rep in ("rep_a", "finance"):  # finance holds sales.write too
        login_as(client, users[rep])
        page = client.get("/sales/products")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Cadeira" in html
        assert 'id="new-product"' not in html and edit not in html  # no link to a 403
        assert client.get(NEW).status_code == 403
        assert client.get(edit).status_code == 403
        assert product_form(client, NEW).status_code == 403
        assert product_form(client, edit, price="1,00", name="Barata").status_code == 403
    with app.app_context():
        products = db.session.scalars(select(Product)).all()
        assert [(p.code, p.name, str(p.price)) for p in products] == \
            [("CAD-1", "Cadeira", "100.00")]


def test_a_manager_and_an_admin_add_and_change_products(app, client, users):
    product_id = make_product(app)
    edit = f"/sales/products/{product_id}/edit"
    login_as(client, users["manager"])
    html = client.get("/sales/products").get_data(as_text=True)
    assert 'id="new-product"' in html and edit in html
    assert product_form(client, NEW).status_code == 303
    assert product_form(client, edit, code="CAD-1", name="Cadeira", price="120,00") \
        .status_code == 303
    login_as(client, users["admin"])
    assert client.get(edit).status_code == 200
    assert product_form(client, NEW, code="SRV-1", name="Instalação", kind="service") \
        .status_code == 303
    with app.app_context():
        prices = {p.code: str(p.price) for p in db.session.scalars(select(Product))}
    assert prices == {"CAD-1": "120.00", "MES-1": "250.00", "SRV-1": "250.00"}


def test_an_existing_database_gives_the_permission_to_its_sales_managers(
        make_app, empty_database_url):
    """Defaults reach only new installs: the sales migration grants it to the managers of a
    database made before the permission existed, and its downgrade takes it back."""
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    upgrade_database(app)

    def permissions() -> dict[str, set[str]]:
        db.session.rollback()  # a fresh read: the migration wrote on a connection of its own
        return {r.name: set(r.permissions) for r in db.session.scalars(select(Role))}

    with app.app_context():
        flask_migrate.downgrade(revision="0001_sales")  # as the database was before
        before = permissions()
        assert all(CATALOG_WRITE not in granted for granted in before.values())
        flask_migrate.upgrade(revision="sales@head")
        after = permissions()
        assert after["sales_manager"] == before["sales_manager"] | {CATALOG_WRITE}
        assert {name: granted for name, granted in after.items() if name != "sales_manager"} \
            == {name: granted for name, granted in before.items() if name != "sales_manager"}
        db.session.remove()
        db.engine.dispose()
