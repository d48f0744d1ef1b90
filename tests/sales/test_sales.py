"""Sales: totals, the quote → order → invoice flow, signals, scope, permissions, input,
and the Sales contributions to the account page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from blinker import signal
from sqlalchemy import func, select

from erp.db import db
from erp.documents import line_total
from erp.errors import InvalidInput
from erp.mail import OutboxMessage
from erp.money import installment_plan
from erp.signals import Refused
from modules.crm.models import Account
from modules.sales import services
from modules.sales.models import (
    Installment,
    Invoice,
    Order,
    Product,
    Quote,
    QuoteLine,
    SalesEvent,
)
from tests.conftest import csrf_token, login_as
from tests.sales.support import users_today

TODAY = users_today()  # the users' today, as the services count it


def lines(*rows):
    return [dict(zip(("description", "quantity", "unit_price", "discount"), row, strict=False))
            for row in rows]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("qty", "price", "discount", "expected"), [
    ("1", "10.00", "0", "10.00"),
    ("3", "33.33", "0", "99.99"),
    ("1", "10.00", "12.5", "8.75"),
    ("0.333", "10.00", "0", "3.33"),
    ("1", "0.05", "50", "0.03"),  # 0.025 rounds half up to cents
    ("2.5", "19.90", "10", "44.78"),  # 44.775
])
def test_line_total_rounds_to_cents(qty, price, discount, expected):
    assert line_total(Decimal(qty), Decimal(price), Decimal(discount)) == \
        Decimal(expected)


def test_installments_are_equal_monthly_and_the_last_takes_the_remainder():
    parts = installment_plan(Decimal("100.00"), 3, date(2026, 1, 31))
    assert [d for d, _a in parts] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    assert [a for _d, a in parts] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert sum(a for _d, a in parts) == Decimal("100.00")
    assert installment_plan(Decimal("10.00"), 1, date(2026, 5, 1)) == \
        [(date(2026, 5, 1), Decimal("10.00"))]


def test_quote_totals_are_computed_on_the_server_with_pt_br_numbers(ctx, as_user, account):
    acct = db.session.get(Account, account)
    quote = services.create_quote(acct, {
        "valid_until": (TODAY + timedelta(days=10)).strftime("%d/%m/%Y"),
        "lines": lines(("Consultoria", "2,5", "1.000,00", "10"), ("Licença", "3", "33,33"),
                       ("", "", "", "")),  # an empty row is skipped
    }, user=as_user())
    assert [line.total for line in quote.lines] == [Decimal("2250.00"), Decimal("99.99")]
    assert quote.total == Decimal("2349.99")
    assert quote.display_number.startswith("PR ")


def test_catalog_product_fills_description_and_price(ctx, as_user, account):
    product = services.create_product({"code": "SRV-1", "name": "Implantação",
                                       "kind": "service", "price": "1.500,00"})
    with pytest.raises(InvalidInput) as error:
        services.create_product({"code": "SRV-1", "name": "Outro", "price": "1"})
    assert "code" in error.value.errors
    db.session.rollback()
    acct = db.session.get(Account, account)
    quote = services.create_quote(acct, {"valid_until": TODAY.isoformat(), "lines": [
        {"product_id": str(product.id), "quantity": "2"}]}, user=as_user())
    assert quote.lines[0].description == "Implantação"
    assert quote.total == Decimal("3000.00")


# --- the flow --------------------------------------------------------------------------------


def new_quote(client, account_id, **extra):
    """POST the quote form as the logged-in user; returns the response."""
    url = f"/sales/quotes/new?account_id={account_id}"
    data = {"csrf_token": csrf_token(client, url),
            "valid_until": (TODAY + timedelta(days=30)).isoformat(),
            "lines-0-description": "Consultoria", "lines-0-quantity": "10",
            "lines-0-unit_price": "100,00", "lines-0-discount": "0",
            "lines-1-description": "Treinamento", "lines-1-quantity": "1",
            "lines-1-unit_price": "1.000,01", "lines-1-discount": "0"}
    data.update(extra)
    return client.post(url, data=data)


def post(client, url, page, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def test_quote_to_order_to_invoice_with_installments(app, client, users, account, contact,
                                                    make_contact):
    received = []

    def on_issued(sender, **kwargs):
        received.append((sender, kwargs))

    signal("sales.invoice_issued").connect(on_issued)
    no_mail = make_contact(name="Sem Email", account_id=account)
    login_as(client, users["rep_a"])
    try:
        response = new_quote(client, account)
        assert response.status_code == 303
        with app.app_context():
            quote = db.session.scalar(select(Quote))
            quote_id, total = quote.id, quote.total
            assert (quote.status, total) == ("draft", Decimal("2000.01"))
        page = f"/sales/quotes/{quote_id}/send"
        # No e-mail address: refused, nothing written.
        response = post(client, page, page, contact_id=str(no_mail))
        assert response.status_code == 422
        assert "has no e-mail address" in response.get_data(as_text=True)
        with app.app_context():
            assert count(OutboxMessage) == 0
            assert db.session.get(Quote, quote_id).status == "draft"
        # Sent: the mail is queued and the quote sent, in one go; logged in the timeline.
        response = post(client, page, page, contact_id=str(contact), message="Segue.")
        assert response.status_code == 303
        with app.app_context():
            mail = db.session.scalar(select(OutboxMessage))
            assert mail.to == ["Ana Compras <ana@cliente.example>"]
            assert "PR " in mail.subject and "Consultoria" in mail.body_text
            assert db.session.get(Quote, quote_id).status == "sent"
            assert db.session.scalar(select(SalesEvent.kind)) == "sales.quote_sent"
        # Printable view.
        printable = client.get(f"/sales/quotes/{quote_id}/print").get_data(as_text=True)
        assert "Consultoria" in printable and "/sales/static/quote_print.css" in printable
        assert "@media print" in client.get("/sales/static/quote_print.css").get_data(
            as_text=True)  # its own stylesheet: the page has no inline style (CSP)
        # Accepted: an order with the same lines.
        detail = f"/sales/quotes/{quote_id}"
        response = post(client, f"/sales/quotes/{quote_id}/accept", detail)
        assert response.status_code == 303
        with app.app_context():
            order = db.session.scalar(select(Order))
            order_id = order.id
            assert order.status == "confirmed" and order.quote_id == quote_id
            assert [(li.description, li.total) for li in order.lines] == [
                ("Consultoria", Decimal("1000.00")), ("Treinamento", Decimal("1000.01"))]
            assert db.session.get(Quote, quote_id).status == "accepted"
            assert db.session.get(Account, account).lifecycle == "prospect"
        # Invoiced in 3 installments: they sum to the total; the account becomes a customer.
        page = f"/sales/orders/{order_id}/invoice"
        response = post(client, page, page, issue_date=TODAY.isoformat(), installments="3",
                        first_due_date=(TODAY + timedelta(days=30)).isoformat())
        assert response.status_code == 303, response.get_data(as_text=True)
        with app.app_context():
            invoice = db.session.scalar(select(Invoice))
            amounts = [i.amount for i in invoice.installments]
            assert amounts == [Decimal("666.67"), Decimal("666.67"), Decimal("666.67")]
            assert sum(amounts) == invoice.total == total
            assert db.session.get(Account, account).lifecycle == "customer"
            number, invoice_id = invoice.display_number, invoice.id
            kinds = db.session.scalars(select(SalesEvent.kind).order_by(SalesEvent.id)).all()
            assert kinds == ["sales.quote_sent", "sales.quote_accepted",
                             "sales.order_confirmed", "sales.invoice_issued"]
    finally:
        signal("sales.invoice_issued").disconnect(on_issued)
    # The signal, with the contract's kwargs.
    assert len(received) == 1
    sender, kwargs = received[0]
    assert isinstance(sender, Invoice)
    assert set(kwargs) == {"account_id", "document", "origin", "origin_id", "issue_date",
                           "installments", "user"}
    assert kwargs["account_id"] == account and kwargs["document"] == number
    assert number.startswith("NF ")
    assert (kwargs["origin"], kwargs["origin_id"]) == ("sales.invoice", invoice_id)
    assert kwargs["issue_date"] == TODAY
    assert sum(amount for _due, amount in kwargs["installments"]) == Decimal("2000.01")
    assert kwargs["installments"][0][0] == TODAY + timedelta(days=30)
    assert kwargs["user"].id == users["rep_a"]


def make_order(app, account_id, user_id, total="100.00"):
    from erp.auth.models import User
    with app.app_context():
        order = services.create_order(db.session.get(Account, account_id),
                                      {"lines": lines(("Item", "1", total))},
                                      user=db.session.get(User, user_id))
        return order.id


def issue(app, order_id, user_id, **data):
    from erp.auth.models import User
    with app.app_context():
        order = db.session.get(Order, order_id)
        invoice = services.issue_invoice(order, {
            "installments": "1", "first_due_date": (TODAY + timedelta(days=10)).isoformat(),
            **data}, user=db.session.get(User, user_id))
        return invoice.id


def test_a_refused_cancellation_rolls_back_and_shows_the_message(app, client, users, account):
    invoice_id = issue(app, make_order(app, account, users["rep_a"]), users["rep_a"])
    seen = []

    def veto(sender, **kwargs):
        seen.append(kwargs)
        raise Refused("NF has payments: reverse them first.")

    signal("sales.invoice_cancelled").connect(veto)
    login_as(client, users["rep_a"])
    detail = f"/sales/invoices/{invoice_id}"
    try:
        response = post(client, f"{detail}/cancel", detail)
    finally:
        signal("sales.invoice_cancelled").disconnect(veto)
    assert response.status_code == 303
    assert seen and seen[0]["origin"] == "sales.invoice" and seen[0]["origin_id"] == invoice_id
    assert "reverse them first" in client.get(detail).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).status == "issued"
        assert db.session.scalar(select(func.count()).where(
            SalesEvent.kind == "sales.invoice_cancelled")) == 0
    # Without a veto, it is cancelled, and the order can be invoiced again.
    response = post(client, f"{detail}/cancel", detail)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.status == "cancelled"
        assert services.uninvoiced_orders(account)[0].id == invoice.order_id


def test_a_refused_issue_writes_nothing(app, users, account):
    order_id = make_order(app, account, users["rep_a"])

    def veto(sender, **kwargs):
        raise Refused("no")

    signal("sales.invoice_issued").connect(veto)
    try:
        with pytest.raises(InvalidInput):
            issue(app, order_id, users["rep_a"])
    finally:
        signal("sales.invoice_issued").disconnect(veto)
    with app.app_context():
        assert count(Invoice) == 0 and count(Installment) == 0
        assert db.session.get(Account, account).lifecycle == "prospect"


def test_expired_is_computed_from_the_validity_date(app, users, account, contact):
    from erp.auth.models import User
    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        quote = services.create_quote(db.session.get(Account, account), {
            "valid_until": TODAY.isoformat(), "lines": lines(("X", "1", "5"))}, user=user)
        services.send_quote(quote, contact, user=user)
        assert quote.current_status == "sent"
        assert quote.status_on(TODAY + timedelta(days=1)) == "expired"
        quote.valid_until = TODAY - timedelta(days=1)  # as if time had passed
        db.session.commit()
        assert quote.status == "sent" and quote.current_status == "expired"
        expired = db.session.scalars(select(Quote.id).where(
            services.quote_status_filter("expired"))).all()
        assert expired == [quote.id]
        with pytest.raises(InvalidInput):
            services.accept_quote(quote, user=user)


# --- scope, permissions, input -------------------------------------------------------------


def test_scope_a_rep_cannot_see_another_reps_documents(app, client, users, make_account):
    other = make_account(owner="rep_c", legal_name="Conta do C")
    order_id = make_order(app, other, users["rep_c"])
    invoice_id = issue(app, order_id, users["rep_c"])
    with app.app_context():
        from erp.auth.models import User
        quote = services.create_quote(db.session.get(Account, other), {
            "valid_until": TODAY.isoformat(), "lines": lines(("X", "1", "5"))},
            user=db.session.get(User, users["rep_c"]))
        quote_id = quote.id
    login_as(client, users["rep_a"])
    for url in (f"/sales/quotes/{quote_id}", f"/sales/quotes/{quote_id}/print",
                f"/sales/quotes/{quote_id}/edit", f"/sales/quotes/{quote_id}/send",
                f"/sales/orders/{order_id}", f"/sales/orders/{order_id}/invoice",
                f"/sales/invoices/{invoice_id}", f"/sales/quotes/new?account_id={other}",
                f"/sales/orders/new?account_id={other}",
                f"/sales/invoices/new?account_id={other}"):
        assert client.get(url).status_code == 404, url
    for url in ("/sales/quotes", "/sales/orders", "/sales/invoices"):
        assert "Conta do C" not in client.get(url).get_data(as_text=True), url
    login_as(client, users["rep_c"])
    assert client.get(f"/sales/quotes/{quote_id}").status_code == 200
    assert "Conta do C" in client.get("/sales/quotes").get_data(as_text=True)


def test_permissions_service_user_gets_403(client, users, account):
    login_as(client, users["service"])
    for url in ("/sales/", "/sales/quotes", "/sales/orders", "/sales/invoices",
                "/sales/products", f"/sales/quotes/new?account_id={account}",
                "/sales/products/new"):
        assert client.get(url).status_code == 403, url


def test_bad_input_is_a_422_and_writes_nothing(app, client, users, account):
    login_as(client, users["rep_a"])
    response = new_quote(client, account, **{
        "valid_until": "31/02/2026x", "lines-0-quantity": "-1", "lines-1-unit_price": "abc",
        "lines-1-discount": "150"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Use a quantity greater than zero." in html
    assert "Use a price such as 1.234,56." in html
    assert "Use a discount from 0 to 100" in html
    response = new_quote(client, account, **{
        "lines-0-description": "", "lines-0-quantity": "", "lines-0-unit_price": "",
        "lines-0-discount": "", "lines-1-description": "", "lines-1-quantity": "",
        "lines-1-unit_price": "", "lines-1-discount": ""})
    assert response.status_code == 422 and "Add at least one line." in \
        response.get_data(as_text=True)
    order_id = make_order(app, account, users["rep_a"])
    page = f"/sales/orders/{order_id}/invoice"
    response = post(client, page, page, issue_date=TODAY.isoformat(), installments="0",
                    first_due_date=(TODAY - timedelta(days=5)).isoformat())
    assert response.status_code == 422
    login_as(client, users["manager"])  # the catalog is the manager's (sales.catalog.write)
    page = "/sales/products/new"
    response = post(client, page, page, code="", name="", kind="x", price="-3")
    assert response.status_code == 422
    with app.app_context():
        assert (count(Quote), count(QuoteLine), count(Product), count(Invoice)) == (0, 0, 0, 0)
        assert db.session.get(Account, account).lifecycle == "prospect"
    # A missing CSRF token is refused too.
    response = client.post(f"/sales/quotes/new?account_id={account}", data={})
    assert response.status_code in (400, 422)


# --- the account page ------------------------------------------------------------------------


def test_account_page_tab_stats_timeline_and_create_entries(app, client, users, account):
    order_id = make_order(app, account, users["rep_a"], total="1234.56")
    issue(app, order_id, users["rep_a"])
    make_order(app, account, users["rep_a"], total="10.00")
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    assert 'data-tab="sales"' in html
    assert 'data-stat="sales.last_order"' in html and 'data-stat="sales.invoiced_this_year"' \
        in html
    assert "1,234.56" in html  # invoiced this year, in the user's locale
    for key in ("sales.new_quote", "sales.new_order", "sales.new_invoice"):
        assert f'data-create="{key}"' in html
    tab = client.get(f"/crm/accounts/{account}/tabs/sales").get_data(as_text=True)
    assert re.search(r'data-count="3"', tab)  # two orders and an invoice
    assert client.get(f"/crm/accounts/{account}/tabs/sales/count").get_json() == {"count": 3}
    assert f"/sales/orders/{order_id}" in tab
    timeline = client.get(f"/crm/accounts/{account}/tabs/timeline").get_data(as_text=True)
    assert "Invoice issued: NF " in timeline and "Order confirmed: PV " in timeline
    assert 'value="sales.invoice_issued"' in timeline
    only = client.get(f"/crm/accounts/{account}/tabs/timeline?kind=sales.invoice_issued")
    kinds = re.findall(r'data-kind="([^"]+)"', only.get_data(as_text=True))
    assert kinds == ["sales.invoice_issued"]
    # "Invoice" on the account page lists the uninvoiced orders to pick from.
    choose = client.get(f"/sales/invoices/new?account_id={account}&next=/crm/accounts/{account}")
    assert choose.status_code == 200
    assert choose.get_data(as_text=True).count('data-order="') == 1


def test_create_quote_from_the_account_page_goes_back_to_next(client, users, account):
    login_as(client, users["rep_a"])
    back = f"/crm/accounts/{account}?tab=sales"
    response = new_quote(client, f"{account}&next={back.replace('?', '%3F').replace('=', '%3D')}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(back)
    response = new_quote(client, f"{account}&next=https://evil.example/")
    assert response.status_code == 303 and "evil" not in response.headers["Location"]


def test_the_sales_menu_and_lists(client, users, account):
    login_as(client, users["rep_a"])
    home = client.get("/sales/quotes").get_data(as_text=True)
    assert 'data-menu="sales"' in home
    assert "No quotes found." in home
    assert client.get("/sales/products").status_code == 200
    login_as(client, users["finance"])
    assert client.get("/sales/invoices").status_code == 200


def test_every_page_renders(app, client, users, account, contact):
    from erp.auth.models import User
    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        product = services.create_product({"code": "P1", "name": "Cadeira", "price": "99,90"})
        quote = services.create_quote(db.session.get(Account, account), {
            "valid_until": TODAY.isoformat(), "contact_id": str(contact),
            "lines": [{"product_id": str(product.id), "quantity": "2", "discount": "5"}]},
            user=user)
        draft_id = quote.id
        sent = services.create_quote(db.session.get(Account, account), {
            "valid_until": TODAY.isoformat(), "lines": lines(("X", "1", "5"))}, user=user)
        services.send_quote(sent, contact, user=user)
        order = services.accept_quote(sent, user=user)
        invoice = services.issue_invoice(order, {"installments": "2",
                                                 "first_due_date": TODAY.isoformat()},
                                         user=user)
        ids = (product.id, draft_id, sent.id, order.id, invoice.id)
        mail = db.session.scalar(select(OutboxMessage))
        assert "Cadeira" not in mail.body_text and "Hello Ana Compras," in mail.body_text
    product_id, draft_id, sent_id, order_id, invoice_id = ids
    login_as(client, users["rep_a"])
    for url in ("/sales/quotes", "/sales/quotes?status=expired&q=PR", "/sales/orders?q=Cliente",
                "/sales/invoices?status=issued", "/sales/products?inactive=1&kind=product",
                f"/sales/quotes/{draft_id}", f"/sales/quotes/{draft_id}/edit",
                f"/sales/quotes/{draft_id}/print", f"/sales/quotes/{draft_id}/send",
                f"/sales/quotes/{sent_id}", f"/sales/orders/{order_id}",
                f"/sales/invoices/{invoice_id}", f"/sales/quotes/new?account_id={account}",
                f"/sales/orders/new?account_id={account}",
                f"/sales/invoices/new?account_id={account}", "/search?q=1"):
        response = client.get(url)
        assert response.status_code == 200, url
    edit = client.get(f"/sales/quotes/{draft_id}/edit").get_data(as_text=True)
    assert 'value="Cadeira"' in edit and 'value="189.81"' not in edit  # the price, not total
    # Editing a draft keeps its number and recomputes the total.
    page = f"/sales/quotes/{draft_id}/edit"
    response = post(client, page, page, valid_until=TODAY.isoformat(),
                    **{"lines-0-description": "Mesa", "lines-0-quantity": "1",
                       "lines-0-unit_price": "10", "lines-0-discount": "0"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Quote, draft_id).total == Decimal("10.00")
    login_as(client, users["manager"])  # the catalog's forms: sales.catalog.write
    for url in (f"/sales/products/{product_id}/edit", "/sales/products/new"):
        assert client.get(url).status_code == 200, url
    login_as(client, users["admin"])
    for table in ("sales_product", "sales_quote", "sales_order", "sales_invoice", "sales_event"):
        assert client.get(f"/admin/{table}/").status_code == 200, table


def test_invoice_installments_link_to_their_receivables(app, client, users, account):
    """Each installment of an invoice links to its receivable for who may see finance's
    receivables; a rep without finance.read gets plain text (issue 17)."""
    from modules.finance.models import Receivable

    invoice_id = issue(app, make_order(app, account, users["rep_a"], total="300.00"),
                       users["rep_a"], installments="3")
    detail = f"/sales/invoices/{invoice_id}"
    login_as(client, users["finance"])
    html = client.get(detail).get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)" class="receivable-link"', html)
    assert links == [f"/finance/receivables/of/sales.invoice/{invoice_id}/{n}" for n in (1, 2, 3)]
    response = client.get(links[1])
    with app.app_context():
        second = db.session.scalar(select(Receivable).where(
            Receivable.origin == "sales.invoice", Receivable.origin_id == invoice_id,
            Receivable.installment == 2))
        assert second.installment_label == "2/3"
    assert response.status_code == 302
    assert response.location.endswith(f"/finance/receivables/{second.id}")
    assert client.get(response.location).status_code == 200
    assert client.get(f"/finance/receivables/of/sales.invoice/{invoice_id}/4").status_code == 404

    login_as(client, users["rep_a"])  # no finance.read: no links, and the address is refused
    html = client.get(detail).get_data(as_text=True)
    assert "receivable-link" not in html and "/finance/" not in html.split('id="installments"')[1]
    assert client.get(links[0]).status_code == 403
