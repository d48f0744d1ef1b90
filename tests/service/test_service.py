"""Service orders and service invoices: totals, status moves, invoicing and its signals,
the account page's contributions, scope and permissions."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from blinker import signal
from sqlalchemy import func, select

from erp.auth.models import User
from erp.db import db
from erp.errors import InvalidInput
from erp.signals import Refused
from modules.crm.models import Account
from modules.service import services
from modules.service.models import (
    ServiceEvent,
    ServiceInvoice,
    ServiceOrder,
    ServiceOrderItem,
)
from tests.conftest import csrf_token, login_as


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def order_form(users, **overrides) -> dict:
    data = {
        "description": "Manutenção do servidor",
        "technician_id": str(users["service"]),
        "hours": "2,5", "hourly_rate": "100,00",
        "items-0-description": "Memória 16 GB", "items-0-quantity": "2",
        "items-0-unit_price": "1.234,56",
        "items-1-description": "Cabo", "items-1-quantity": "1,5", "items-1-unit_price": "3",
        "items-2-description": "", "items-2-quantity": "", "items-2-unit_price": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def account(make_account):
    return make_account(legal_name="Cliente Serviço Ltda.")


@pytest.fixture
def service_client(client, users, account):
    login_as(client, users["service"])
    return client


def token(client, account_id: int) -> str:
    return csrf_token(client, f"/service/orders/new?account_id={account_id}")


# --- orders: totals, form, bad input -------------------------------------------------------


def test_order_form_computes_totals_from_items_and_hours_in_pt_br(app, service_client, users,
                                                                   account):
    data = order_form(users, csrf_token=token(service_client, account))
    response = service_client.post(f"/service/orders/new?account_id={account}", data=data)
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalar(select(ServiceOrder))
        assert [(i.description, i.quantity, i.unit_price, i.total) for i in order.items] == [
            ("Memória 16 GB", Decimal("2.000"), Decimal("1234.56"), Decimal("2469.12")),
            ("Cabo", Decimal("1.500"), Decimal("3.00"), Decimal("4.50")),
        ]
        assert order.items_total == Decimal("2473.62")
        assert order.hours_total == Decimal("250.00")
        assert order.total == Decimal("2723.62")
        assert order.status == "open" and order.number == 1
        assert response.headers["Location"].endswith(f"/service/orders/{order.id}")
        events = db.session.scalars(select(ServiceEvent.kind)).all()
        assert events == ["service.order_opened"]


def test_edit_recomputes_totals_and_a_second_order_gets_the_next_number(app, make_order,
                                                                        service_client, users,
                                                                        account):
    first = make_order(account)
    second = make_order(account)
    data = order_form(users, csrf_token=token(service_client, account), hours="",
                      hourly_rate="", **{"items-1-description": "", "items-1-quantity": "",
                                         "items-1-unit_price": ""})
    response = service_client.post(f"/service/orders/{second}/edit", data=data)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(ServiceOrder, first).number == 1
        order = db.session.get(ServiceOrder, second)
        assert order.number == 2
        assert order.total == Decimal("2469.12") and len(order.items) == 1


@pytest.mark.parametrize("field, value", [
    ("description", ""),
    ("technician_id", "999999"),
    ("items-0-quantity", "abc"),
    ("items-0-quantity", "0"),
    ("items-1-unit_price", "-3"),
    ("items-1-description", ""),
    ("hours", "duas"),
    ("hourly_rate", "1e20"),
])
def test_bad_order_input_is_a_422_with_the_message_and_nothing_written(app, service_client,
                                                                       users, account, field,
                                                                       value):
    data = order_form(users, csrf_token=token(service_client, account), **{field: value})
    response = service_client.post(f"/service/orders/new?account_id={account}", data=data)
    assert response.status_code == 422
    assert "is-invalid" in response.get_data(as_text=True)
    for model in (ServiceOrder, ServiceOrderItem, ServiceEvent):
        assert count(app, model) == 0


def test_a_done_order_cannot_be_edited(app, make_order, service_client, users, account):
    order_id = make_order(account, status="done")
    response = service_client.get(f"/service/orders/{order_id}/edit")
    assert response.status_code == 302
    with app.app_context():
        order = db.session.get(ServiceOrder, order_id)
        with pytest.raises(InvalidInput):
            services.update_order(order, {"description": "x"}, user=order.technician)


def test_create_action_goes_back_to_a_safe_next_only(app, service_client, users, account):
    back = f"/crm/accounts/{account}?tab=service"
    data = order_form(users, csrf_token=token(service_client, account))
    response = service_client.post(
        f"/service/orders/new?account_id={account}&next={back}", data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith(back)
    response = service_client.post(
        f"/service/orders/new?account_id={account}&next=https://evil.example/", data=data)
    assert response.status_code == 303
    assert "evil" not in response.headers["Location"]
    assert "/service/orders/" in response.headers["Location"]


def test_missing_csrf_token_is_refused(app, service_client, users, account):
    response = service_client.post(f"/service/orders/new?account_id={account}",
                                   data=order_form(users))
    assert response.status_code in (400, 422)
    assert count(app, ServiceOrder) == 0


def test_new_order_without_account_asks_for_one(service_client, account):
    page = service_client.get("/service/orders/new?account_q=Cliente").get_data(as_text=True)
    assert f"/service/orders/new?account_id={account}" in page


# --- status moves ------------------------------------------------------------------------------


def test_status_moves_follow_the_allowed_path(app, make_order, users, account):
    order_id = make_order(account)
    with app.app_context():
        user = db.session.get(User, users["service"])
        order = db.session.get(ServiceOrder, order_id)
        with pytest.raises(InvalidInput):
            services.change_status(order, "done", user=user)  # open -> done: skip
        db.session.rollback()
        services.change_status(order, "in_progress", user=user)
        assert order.started_at is not None
        with pytest.raises(InvalidInput):
            services.change_status(order, "open", user=user)
        db.session.rollback()
        services.change_status(order, "done", user=user)
        for illegal in ("cancelled", "open", "in_progress", "bogus"):
            with pytest.raises(InvalidInput):
                services.change_status(order, illegal, user=user)
            db.session.rollback()
        assert db.session.get(ServiceOrder, order_id).status == "done"
        cancelled_id = make_order(account, status="cancelled")  # in a session of its own
        db.session.commit()  # end this session's read snapshot (SQLite: WAL) to see it
        cancelled = db.session.get(ServiceOrder, cancelled_id)
        for illegal in ("open", "in_progress", "done"):
            with pytest.raises(InvalidInput):
                services.change_status(cancelled, illegal, user=user)
            db.session.rollback()
        kinds = db.session.scalars(select(ServiceEvent.kind).order_by(ServiceEvent.id)).all()
        assert kinds == ["service.order_opened", "service.order_finished",
                         "service.order_opened", "service.order_cancelled"]


def test_status_buttons_post_and_an_illegal_move_is_refused_with_its_message(
        app, make_order, service_client, account):
    order_id = make_order(account)
    page = service_client.get(f"/service/orders/{order_id}").get_data(as_text=True)
    assert 'value="in_progress"' in page and 'value="cancelled"' in page
    assert 'value="done"' not in page
    csrf = token(service_client, account)
    response = service_client.post(f"/service/orders/{order_id}/status",
                                   data={"csrf_token": csrf, "status": "done"})
    # A button's refusal: flashed on the order's page (erp.forms.post_action).
    assert response.status_code == 303
    assert response.location.endswith(f"/service/orders/{order_id}")
    assert "cannot become" in service_client.get(response.location).get_data(as_text=True)
    for status in ("in_progress", "done"):
        response = service_client.post(f"/service/orders/{order_id}/status",
                                       data={"csrf_token": csrf, "status": status})
        assert response.status_code == 303
    with app.app_context():
        assert db.session.get(ServiceOrder, order_id).status == "done"
    page = service_client.get(f"/service/orders/{order_id}").get_data(as_text=True)
    assert 'id="invoice-form"' in page and "/edit" not in page


# --- invoices ------------------------------------------------------------------------------------


def issue(client, order_id, csrf, **data):
    form = {"csrf_token": csrf, "issue_date": "01/12/2026", "due_date": "31/12/2026",
            "installments": "1", **data}
    return client.post(f"/service/orders/{order_id}/invoice", data=form)


def test_invoice_only_from_a_done_order_and_only_once(app, make_order, service_client, account):
    csrf = token(service_client, account)
    open_order = make_order(account, status="in_progress")
    response = issue(service_client, open_order, csrf)
    assert response.status_code == 422
    assert "Only a finished" in response.get_data(as_text=True)
    assert count(app, ServiceInvoice) == 0

    done = make_order(account, status="done")
    response = issue(service_client, done, csrf)
    assert response.status_code == 303
    again = issue(service_client, done, csrf)
    assert again.status_code == 422
    assert "already invoiced" in again.get_data(as_text=True)
    with app.app_context():
        invoice = db.session.scalar(select(ServiceInvoice))
        assert count(app, ServiceInvoice) == 1
        assert invoice.number == 1 and invoice.amount == Decimal("100.00")
        assert invoice.issue_date == date(2026, 12, 1) and invoice.due_date == date(2026, 12, 31)
        assert response.headers["Location"].endswith(f"/service/invoices/{invoice.id}")
        # Cancelled, the order may be invoiced anew (one live invoice per order).
        services.cancel_invoice(invoice, user=invoice.issued_by)
    assert issue(service_client, done, csrf).status_code == 303
    assert count(app, ServiceInvoice) == 2


@pytest.mark.parametrize("field, value", [("due_date", ""), ("due_date", "31/02/2026"),
                                          ("due_date", "30/11/2026"), ("issue_date", "ontem"),
                                          ("installments", "0"), ("installments", "99")])
def test_bad_invoice_input_is_a_422_and_nothing_written(app, make_order, service_client,
                                                        account, field, value):
    done = make_order(account, status="done")
    response = issue(service_client, done, token(service_client, account), **{field: value})
    assert response.status_code == 422
    assert count(app, ServiceInvoice) == 0
    with app.app_context():
        assert db.session.get(Account, account).lifecycle != "customer"


def test_issuing_sends_the_contract_signal_and_makes_the_account_a_customer(
        app, make_order, service_client, users, account):
    done = make_order(account, status="done", items=[
        {"description": "Visita", "quantity": "1", "unit_price": "100,00"}])
    heard = []

    def receiver(sender, **kwargs):
        # Inside the transaction: the invoice is flushed, not yet committed.
        heard.append((sender, kwargs, db.session.get(ServiceInvoice, kwargs["origin_id"])))

    with signal("service.invoice_issued").connected_to(receiver):
        response = issue(service_client, done, token(service_client, account),
                         installments="3", due_date="31/01/2027")
    assert response.status_code == 303
    assert len(heard) == 1
    sender, kwargs, seen = heard[0]
    assert isinstance(sender, ServiceInvoice) and seen is not None
    assert kwargs["account_id"] == account
    assert kwargs["document"] == "NFS 000001"
    assert kwargs["origin"] == "service.invoice" and kwargs["origin_id"] == sender.id
    assert kwargs["issue_date"] == date(2026, 12, 1)
    assert kwargs["installments"] == [(date(2027, 1, 31), Decimal("33.33")),
                                      (date(2027, 2, 28), Decimal("33.33")),
                                      (date(2027, 3, 31), Decimal("33.34"))]
    assert sum(amount for _due, amount in kwargs["installments"]) == Decimal("100.00")
    assert kwargs["user"].id == users["service"]
    with app.app_context():
        assert db.session.get(Account, account).lifecycle == "customer"
    page = service_client.get(f"/service/invoices/{sender.id}").get_data(as_text=True)
    assert "3/3" in page and "NFS 000001" in page


def test_a_refusal_on_issue_writes_nothing(app, make_order, service_client, account):
    done = make_order(account, status="done")

    def refuse(sender, **kwargs):
        raise Refused("Finance is closed for the month.")

    with signal("service.invoice_issued").connected_to(refuse):
        response = issue(service_client, done, token(service_client, account))
    assert response.status_code == 422
    assert "Finance is closed for the month." in response.get_data(as_text=True)
    assert count(app, ServiceInvoice) == 0
    with app.app_context():
        assert db.session.get(Account, account).lifecycle != "customer"
        assert db.session.scalar(select(func.count()).where(
            ServiceEvent.kind == "service.invoice_issued")) == 0


def test_cancel_sends_the_signal_and_a_refusal_rolls_back_with_its_message(
        app, make_order, service_client, users, account):
    done = make_order(account, status="done")
    csrf = token(service_client, account)
    issue(service_client, done, csrf)
    with app.app_context():
        invoice_id = db.session.scalar(select(ServiceInvoice.id))

    def refuse(sender, **kwargs):
        raise Refused("A receivable of this invoice has payments: reverse them first.")

    with signal("service.invoice_cancelled").connected_to(refuse):
        response = service_client.post(f"/service/invoices/{invoice_id}/cancel",
                                       data={"csrf_token": csrf})
    # A button's refusal: flashed on the invoice's page (erp.forms.post_action).
    assert response.status_code == 303
    assert response.location.endswith(f"/service/invoices/{invoice_id}")
    assert "has payments: reverse them first." in service_client.get(
        response.location).get_data(as_text=True)
    with app.app_context():
        invoice = db.session.get(ServiceInvoice, invoice_id)
        assert invoice.status == "issued" and invoice.cancelled_at is None
        assert db.session.scalar(select(func.count()).where(
            ServiceEvent.kind == "service.invoice_cancelled")) == 0

    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    with signal("service.invoice_cancelled").connected_to(receiver):
        response = service_client.post(f"/service/invoices/{invoice_id}/cancel",
                                       data={"csrf_token": csrf})
    assert response.status_code == 303
    assert len(heard) == 1
    assert heard[0]["origin"] == "service.invoice" and heard[0]["origin_id"] == invoice_id
    assert heard[0]["user"].id == users["service"]
    with app.app_context():
        assert db.session.get(ServiceInvoice, invoice_id).status == "cancelled"
    again = service_client.post(f"/service/invoices/{invoice_id}/cancel",
                                data={"csrf_token": csrf})
    assert again.status_code == 303  # refused: flashed on the invoice's page
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(
            ServiceEvent.kind == "service.invoice_cancelled")) == 1


def test_order_signals_are_sent(app, make_order, account):
    opened, finished = [], []

    def on_open(sender, **kwargs):
        opened.append(kwargs["account_id"])

    def on_finish(sender, **kwargs):
        finished.append(kwargs["total"])

    with signal("service.order_opened").connected_to(on_open), \
            signal("service.order_finished").connected_to(on_finish):
        make_order(account, status="done")
    assert opened == [account] and finished == [Decimal("100.00")]


# --- lists --------------------------------------------------------------------------------------


def test_lists_filter_and_page(app, make_order, service_client, users, account, make_account):
    other = make_account(legal_name="Outra Empresa S.A.", owner="rep_b")
    make_order(account, description="Trocar o disco")
    make_order(account, status="done", description="Configurar a rede")
    make_order(other, description="Instalar impressora")
    app.config["ERP_PAGE_SIZE"], size = 2, app.config["ERP_PAGE_SIZE"]
    try:
        def numbers(url):
            html = service_client.get(url).get_data(as_text=True)
            return re.findall(r"OS 0000(\d\d)", html)

        assert numbers("/service/") == ["03", "02"]
        assert numbers("/service/?page=2") == ["01"]
        assert numbers("/service/?status=done") == ["02"]
        assert numbers("/service/?status=active") == ["03", "01"]
        assert numbers("/service/?q=disco") == ["01"]
        assert numbers("/service/?q=Outra") == ["03"]
        assert numbers(f"/service/?account_id={account}") == ["02", "01"]
        kept = service_client.get(f"/service/?account_id={account}").get_data(as_text=True)
        assert f'<input type="hidden" name="account_id" value="{account}">' in kept  # filters
        assert numbers(f"/service/?technician={users['service']}") == ["03", "02"]
        assert numbers(f"/service/?technician={users['admin']}") == []
        assert numbers("/service/?page=abc&status=zzz") == ["03", "02"]
    finally:
        app.config["ERP_PAGE_SIZE"] = size
    assert service_client.get("/service/invoices").status_code == 200


def _technician_select(page: str) -> str:
    return re.search(r'<select[^>]*name="technician_id".*?</select>', page, re.S).group(0)


def _selected(select: str) -> list[str]:
    return [re.search(r'value="([^"]*)"', option).group(1)
            for option in re.findall(r"<option[^>]*>", select) if " selected" in option]


def test_new_order_technician_defaults_only_to_a_technician(app, client, users, account):
    """The technician defaulted to whoever was logged in, an admin too: now only a technician
    (service.write by a role) is preselected; anyone else starts from an empty, required
    field, and saving without one says so (issue 17)."""
    url = f"/service/orders/new?account_id={account}"
    login_as(client, users["service"])
    select = _technician_select(client.get(url).get_data(as_text=True))
    assert _selected(select) == [str(users["service"])]

    login_as(client, users["admin"])
    select = _technician_select(client.get(url).get_data(as_text=True))
    assert "required" in select.split(">", 1)[0]
    assert _selected(select) in ([], [""])  # the blank choice, not the admin
    response = client.post(url, data=order_form(users, technician_id="",
                                                 csrf_token=token(client, account)),
                           headers={"Accept-Language": "pt-BR"})
    assert response.status_code == 422
    assert count(app, ServiceOrder) == 0


# --- scope and permissions ---------------------------------------------------------------------


def test_permissions_by_role(app, make_order, client, users, account):
    order_id = make_order(account)
    login_as(client, users["rep_a"])  # a sales rep holds no service.* by default
    for url in ("/service/", f"/service/orders/{order_id}", "/service/invoices",
                f"/service/orders/new?account_id={account}"):
        assert client.get(url).status_code == 403, url
    page = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    assert 'data-tab="service"' not in page and 'data-stat="service.open_orders"' not in page
    login_as(client, users["finance"])  # reads, does not write
    assert client.get(f"/service/orders/{order_id}").status_code == 200
    assert client.get(f"/service/orders/new?account_id={account}").status_code == 403
    assert client.post(f"/service/orders/{order_id}/status",
                       data={"status": "cancelled"}).status_code in (400, 403)
    with app.app_context():
        assert db.session.get(ServiceOrder, order_id).status == "open"


def test_record_scope_follows_the_account(app, make_order, make_account, client, users,
                                          reps_do_service):
    mine = make_account(legal_name="Conta do A", owner="rep_a")
    theirs = make_account(legal_name="Conta do B", owner="rep_b")
    other_team = make_account(legal_name="Conta do C", owner="rep_c")
    own_order = make_order(mine)
    far_order = make_order(other_team)
    their_order = make_order(theirs, status="done")
    with app.app_context():
        order = db.session.get(ServiceOrder, their_order)
        invoice = services.issue_invoice(order, {"due_date": "2027-01-31"},
                                         user=db.session.get(User, users["service"]))
        invoice_id = invoice.id
    login_as(client, users["rep_a"])
    csrf = token(client, mine)
    assert client.get(f"/service/orders/{own_order}").status_code == 200
    for url in (f"/service/orders/{their_order}", f"/service/orders/{their_order}/edit",
                f"/service/invoices/{invoice_id}", f"/service/orders/new?account_id={theirs}"):
        assert client.get(url).status_code == 404, url
    for url, data in ((f"/service/orders/{their_order}/invoice", {}),
                      (f"/service/invoices/{invoice_id}/cancel", {}),
                      (f"/service/orders/{their_order}/status", {"status": "cancelled"})):
        assert client.post(url, data={"csrf_token": csrf, **data}).status_code == 404, url
    listing = client.get("/service/").get_data(as_text=True)
    assert "OS 000001" in listing and "OS 000002" not in listing
    assert "NFS 000001" not in client.get("/service/invoices").get_data(as_text=True)
    # The manager sees the team's accounts, not another team's.
    login_as(client, users["manager"])
    assert client.get(f"/service/orders/{their_order}").status_code == 200
    assert client.get(f"/service/orders/{far_order}").status_code == 404
    with app.app_context():
        assert db.session.get(ServiceInvoice, invoice_id).status == "issued"


# --- the account page --------------------------------------------------------------------------


def test_account_page_tab_stat_create_entry_and_timeline(app, make_order, service_client,
                                                         account):
    make_order(account)
    make_order(account, status="in_progress")
    done = make_order(account, status="done")
    make_order(account, status="cancelled")
    issue(service_client, done, token(service_client, account))
    page = service_client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    assert 'data-tab="service"' in page
    assert 'data-create="service.new_order"' in page
    stat = re.search(r'data-stat="service.open_orders"[^>]*>(.*?)</', page, re.S)
    assert stat is not None
    assert re.search(r">\s*2\s*<", page[stat.start():stat.start() + 600])
    fragment = service_client.get(f"/crm/accounts/{account}/tabs/service").get_data(
        as_text=True)
    assert 'data-count="5"' in fragment  # 4 orders + 1 invoice
    assert service_client.get(
        f"/crm/accounts/{account}/tabs/service/count").get_json() == {"count": 5}
    assert "NFS 000001" in fragment and "OS 000004" in fragment
    timeline = service_client.get(f"/crm/accounts/{account}/tabs/timeline").get_data(
        as_text=True)
    kinds = re.findall(r'data-kind="(service\.[^"]+)"', timeline)
    assert sorted(kinds) == sorted(["service.order_opened"] * 4 + [
        "service.order_finished", "service.order_cancelled", "service.invoice_issued"])
    assert "/service/invoices/" in timeline
    only = service_client.get(
        f"/crm/accounts/{account}/tabs/timeline?kind=service.invoice_issued").get_data(
        as_text=True)
    assert re.findall(r'data-kind="([^"]+)"', only) == ["service.invoice_issued"]


def test_service_works_without_sales_and_finance(make_app, users, make_account):
    account_id = make_account(legal_name="Só Serviço")
    app = make_app(ERP_MODULES=["crm", "service"])
    client = app.test_client()
    login_as(client, users["service"])
    csrf = token(client, account_id)
    response = client.post(f"/service/orders/new?account_id={account_id}",
                           data=order_form(users, csrf_token=csrf))
    assert response.status_code == 303
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    for status in ("in_progress", "done"):
        assert client.post(f"/service/orders/{order_id}/status",
                           data={"csrf_token": csrf, "status": status}).status_code == 303
    assert issue(client, order_id, csrf).status_code == 303
    page = client.get(f"/crm/accounts/{account_id}?tab=service")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "NFS 000001" in html and 'data-tab="sales"' not in html
    assert 'data-tab="finance"' not in html
    with app.app_context():
        assert db.session.get(Account, account_id).lifecycle == "customer"
