"""Service in the global search (documents by number and description, in scope), and its
demo data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from erp.auth.models import User
from erp.db import db
from erp.registry import DemoLoader, SearchProvider
from modules.service import search, services
from modules.service.models import ServiceEvent, ServiceInvoice, ServiceOrder
from tests.conftest import login_as


def issue(app, users, order_id: int) -> None:
    with app.app_context():
        actor = db.session.get(User, users["service"])
        today = date.today()
        services.issue_invoice(db.session.get(ServiceOrder, order_id), {
            "issue_date": today.isoformat(),
            "due_date": (today + timedelta(days=30)).isoformat()}, user=actor)
        db.session.remove()


def found(app, users, query: str, user: str = "service", limit: int = 10) -> list[str]:
    with app.test_request_context():
        actor = db.session.get(User, users[user])
        titles = [r.title for r in search.search_documents(query, actor, limit)]
        db.session.remove()
    return titles


@pytest.fixture
def documents(app, users, make_account, make_order):
    """OS 000001 (done, invoiced as NFS 000001) and OS 000002 (open) on rep_a's account."""
    account = make_account(owner="rep_a", legal_name="Cliente Busca Ltda.")
    done = make_order(account, status="done", description="Trocar o nobreak da recepção")
    make_order(account, description="Instalar o servidor de arquivos")
    issue(app, users, done)
    return account


@pytest.mark.parametrize("query", ["OS 1", "os 000001", "OS000001", "OS-1", "OS nº 1"])
def test_order_by_number_with_prefix(app, users, documents, query):
    assert found(app, users, query) == ["OS 000001"]


@pytest.mark.parametrize("query", ["NFS 1", "nfs 000001", "NFS000001"])
def test_invoice_by_number_with_prefix(app, users, documents, query):
    assert found(app, users, query) == ["NFS 000001"]


@pytest.mark.parametrize("query", ["1", "000001", " 01 "])
def test_bare_number_finds_both_kinds(app, users, documents, query):
    assert found(app, users, query) == ["OS 000001", "NFS 000001"]


def test_unknown_number_and_short_query_find_nothing(app, users, documents):
    assert found(app, users, "OS 99") == []
    assert found(app, users, "NFS 2") == []
    assert found(app, users, "s") == []


def test_orders_by_description_fragment(app, users, documents):
    assert found(app, users, "nobreak") == ["OS 000001"]
    assert found(app, users, "SERVIDOR de") == ["OS 000002"]
    assert found(app, users, "100%") == []  # LIKE wildcards are literal


def test_results_are_bounded_by_limit(app, users, documents, make_order):
    for _n in range(3):
        make_order(documents, description="Visita técnica mensal")
    assert found(app, users, "visita", limit=2) == ["OS 000005", "OS 000004"]


def test_result_links_and_subtitle(app, users, documents):
    with app.test_request_context():
        actor = db.session.get(User, users["service"])
        (order,) = search.search_documents("OS 1", actor, 10)
        (invoice,) = search.search_documents("NFS 1", actor, 10)
    assert order.url.startswith("/service/orders/") and order.kind == "service_order"
    assert "Cliente Busca Ltda." in order.subtitle and "Done" in order.subtitle
    assert invoice.url.startswith("/service/invoices/") and invoice.kind == "service_invoice"
    assert "Issued" in invoice.subtitle


def test_search_respects_record_scope(app, users, documents, reps_do_service):
    assert found(app, users, "OS 1", user="rep_a") == ["OS 000001"]
    assert found(app, users, "nobreak", user="manager") == ["OS 000001"]  # her team
    assert found(app, users, "OS 1", user="rep_b") == []  # another rep's account
    for query in ("OS 1", "NFS 1", "1", "nobreak"):
        assert found(app, users, query, user="rep_c") == []  # another team


def test_global_search_page_shows_service_documents(client, users, documents):
    login_as(client, users["service"])
    html = client.get("/search?q=OS 1").get_data(as_text=True)
    assert "OS 000001" in html and "Service orders" in html
    html = client.get("/search?q=nobreak").get_data(as_text=True)
    assert "OS 000001" in html
    login_as(client, users["rep_a"])  # no service.read by default: no service results
    html = client.get("/search?q=OS 1").get_data(as_text=True)
    assert "OS 000001" not in html


def test_provider_is_registered(app):
    registry = app.extensions["erp"]
    provider = registry.get(SearchProvider, "service.documents")
    assert provider is not None and provider.permission == "service.read"
    loaders = {loader.key: loader.order
               for loader in registry.items(DemoLoader, check_permission=False)}
    assert loaders["service"] > loaders["crm"]
    if "finance" in loaders:
        assert loaders["service"] < loaders["finance"]


# --- demo data -------------------------------------------------------------------------------


def test_demo_loader_on_an_empty_database(app):
    from erp.demo import database_is_empty, load_demo

    with app.app_context():
        assert database_is_empty()
        load_demo()
        orders = db.session.scalars(select(ServiceOrder)).all()
        statuses = {order.status for order in orders}
        assert {"open", "in_progress", "done", "cancelled"} <= statuses
        assert len({order.account_id for order in orders}) == 10
        sergio = db.session.scalar(select(User).where(User.username == "sergio"))
        assert {order.technician_id for order in orders} == {sergio.id}
        assert all(order.total > 0 and (order.items or order.hours) for order in orders)
        assert any(order.items for order in orders)
        owners = {order.account.owner.username for order in orders}
        assert owners <= {"ana", "bruno", "gerente"}
        # Dated over the past months, never in the future.
        today = date.today()
        opened = [order.created_at.date() for order in orders]
        assert max(opened) <= today and min(opened) < today - timedelta(days=60)
        invoices = db.session.scalars(select(ServiceInvoice)).all()
        assert invoices and all(i.order.status == "done" for i in invoices)
        assert all(i.issue_date <= today for i in invoices)
        assert all(i.account.is_customer for i in invoices)
        assert db.session.scalar(select(func.min(ServiceEvent.at))).date() == min(opened)
        if app.extensions["erp"].get(DemoLoader, "finance") is not None:
            from modules.finance.models import Receivable

            made = db.session.scalars(select(Receivable).where(
                Receivable.origin == services.ORIGIN)).all()
            assert {r.origin_id for r in made} == {i.id for i in invoices}


def test_demo_loader_falls_back_to_any_active_user(app, users, make_account):
    """Without "sergio" the first active user does the work, on the demo users' accounts."""
    from modules.service import demo

    for index in range(4):
        make_account(owner="rep_a", legal_name=f"Demo {index}")
    make_account(owner="rep_c", legal_name="Not a demo user's")
    with app.app_context():
        db.session.get(User, users["rep_a"]).username = "ana"  # a demo user
        db.session.commit()
        demo.load()
        orders = db.session.scalars(select(ServiceOrder)).all()
        assert {o.technician_id for o in orders} == {users["admin"]}
        assert {o.account.legal_name for o in orders} == {f"Demo {i}" for i in range(4)}
