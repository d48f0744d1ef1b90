"""The sales catalog through the services: products created and changed with every field's
validation message, the active list, and products filling a document's lines."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from erp.db import db
from modules.crm.models import Account
from modules.sales import services
from modules.sales.models import Product
from tests.sales.support import LATER, count, line, refused


def product(code: str = "P-1", name: str = "Cadeira", price: str = "99,90", **data) -> Product:
    return services.create_product({"code": code, "name": name, "price": price, **data})


def test_a_product_is_stored_clean(ctx):
    made = product("  SRV-1 ", "  Implantação  ", "1.234,565", kind="service")
    stored = db.session.get(Product, made.id)
    assert (stored.code, stored.name, stored.kind, stored.price, stored.active) == (
        "SRV-1", "Implantação", "service", Decimal("1234.57"), True)
    free = product("P-2", "Brinde", "", kind="")
    assert (free.price, free.kind) == (Decimal("0.00"), "product")


BAD_PRODUCTS = [
    ({"code": ""}, "code", "Give the product a code."),
    ({"code": "   "}, "code", "Give the product a code."),
    ({"code": "C" * 41}, "code", "At most 40 characters."),
    ({"code": "TAKEN"}, "code", "Another product already has this code."),
    ({"name": ""}, "name", "Give the product a name."),
    ({"name": "N" * 201}, "name", "At most 200 characters."),
    ({"kind": "gadget"}, "kind", "Choose product or service."),
    ({"price": "-0,01"}, "price", "Use a price such as 1.234,56."),
    ({"price": "caro"}, "price", "Use a price such as 1.234,56."),
    ({"price": "1.000.000.000.000,00"}, "price", "Use a price such as 1.234,56."),
]


@pytest.mark.parametrize(("data", "field", "message"), BAD_PRODUCTS,
                         ids=[f"{f}:{m[:24]}" for _d, f, m in BAD_PRODUCTS])
def test_a_bad_product_says_why_per_field_and_writes_nothing(ctx, data, field, message):
    product("TAKEN", "Existente")
    good = {"code": "NEW-1", "name": "Mesa", "price": "10", "kind": "product"}
    assert refused(services.create_product, {**good, **data}) == {field: [message]}
    assert count(Product) == 1


def test_every_problem_with_a_product_is_reported_at_once(ctx):
    assert set(refused(services.create_product, {"code": "", "name": "", "kind": "x",
                                                 "price": "x"})) == {"code", "name", "kind",
                                                                     "price"}


def test_a_product_keeps_its_code_but_cannot_take_anothers(ctx):
    chair = product("P-1", "Cadeira", "99,90")
    product("P-2", "Mesa", "300")
    services.update_product(chair, {"code": "P-1", "name": "Cadeira gamer", "price": "149",
                                    "kind": "product", "active": True})
    assert (chair.name, chair.price) == ("Cadeira gamer", Decimal("149.00"))
    assert refused(services.update_product, chair, {"code": "P-2", "name": "Cadeira",
                                                    "price": "1"}) == {
        "code": ["Another product already has this code."]}
    assert db.session.get(Product, chair.id).code == "P-1"


def test_the_active_products_by_code(ctx):
    zebra, alpha, old = product("Z-9", "Zebra"), product("A-1", "Alfa"), product("M-5", "Velho")
    services.update_product(old, {"code": "M-5", "name": "Velho", "price": "1",
                                  "active": False})
    assert [p.id for p in services.active_products()] == [alpha.id, zebra.id]
    assert db.session.scalar(select(Product.active).where(Product.id == old.id)) is False


def test_a_catalog_product_fills_a_blank_description_and_price(ctx, as_user, account):
    chair = product("P-1", "Cadeira", "99,90")
    desk = product("P-2", "Mesa", "300")
    acct = db.session.get(Account, account)
    quote = services.create_quote(acct, {"valid_until": LATER.isoformat(), "lines": [
        {"product_id": str(chair.id), "quantity": "2", "discount": "10"},
        {"product_id": str(desk.id), "description": "Mesa de reunião", "unit_price": "250"},
        line("Frete", "1", "40", product_id="")]}, user=as_user())
    assert [(li.product_id, li.description, li.quantity, li.unit_price, li.discount, li.total)
            for li in quote.lines] == [
        (chair.id, "Cadeira", Decimal("2.000"), Decimal("99.90"), Decimal("10.00"),
         Decimal("179.82")),
        (desk.id, "Mesa de reunião", Decimal("1.000"), Decimal("250.00"), Decimal("0.00"),
         Decimal("250.00")),
        (None, "Frete", Decimal("1.000"), Decimal("40.00"), Decimal("0.00"),
         Decimal("40.00"))]
    assert quote.total == Decimal("469.82")
    # A later price change does not touch the document.
    services.update_product(chair, {"code": "P-1", "name": "Cadeira", "price": "500"})
    assert db.session.get(type(quote), quote.id).total == Decimal("469.82")
