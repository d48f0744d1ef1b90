"""The sales lists' search box takes what is typed literally: a % or _ in the query is that
character, not a LIKE wildcard (products by code or name, documents by account name)."""

from __future__ import annotations

from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account
from modules.sales import services
from tests.conftest import login_as
from tests.sales.support import LATER, line


def test_a_typed_percent_or_underscore_in_the_products_search_matches_only_itself(
        app, client, users):
    with app.app_context():
        for code, name in (("D-50", "Desconto 50%"), ("L-500", "Lote 500"),
                           ("C-1", "Cabo_USB"), ("C-2", "CaboXUSB")):
            services.create_product({"code": code, "name": name, "price": "1,00"})
        db.session.remove()
    login_as(client, users["rep_a"])

    html = client.get("/sales/products?q=50%25").get_data(as_text=True)
    assert "Desconto 50%" in html and "Lote 500" not in html

    html = client.get("/sales/products?q=o_U").get_data(as_text=True)
    assert "Cabo_USB" in html and "CaboXUSB" not in html

    html = client.get("/sales/products?q=%25").get_data(as_text=True)
    assert "Desconto 50%" in html and "Lote 500" not in html and "Cabo_USB" not in html


def test_a_typed_percent_in_the_documents_search_matches_only_itself(app, client, users,
                                                                      make_account):
    literal = make_account(legal_name="Alfa 100% Ltda.")
    wildcard = make_account(legal_name="Alfa 1000 Ltda.")
    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        for account_id in (literal, wildcard):
            services.create_quote(db.session.get(Account, account_id),
                                  {"valid_until": LATER.isoformat(), "lines": [line()]},
                                  user=rep)
        db.session.remove()
    login_as(client, users["rep_a"])

    html = client.get("/sales/quotes?q=Alfa+100%25").get_data(as_text=True)
    assert "Alfa 100% Ltda." in html and "Alfa 1000 Ltda." not in html

    html = client.get("/sales/quotes?q=Alfa+100_").get_data(as_text=True)
    assert "Alfa 100% Ltda." not in html and "Alfa 1000 Ltda." not in html
