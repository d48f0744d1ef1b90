"""The service lists run a fixed number of queries (issue 15): a page of service orders or
invoices loads its rows' accounts (with their tags), technicians and orders together, not
one row at a time, so the count is the same with 5 rows or 40 on the page, and with one
account or many behind them."""

from __future__ import annotations

import pytest

from erp.auth.models import User
from erp.db import db
from modules.service import services
from modules.service.models import ServiceOrder
from tests.conftest import login_as
from tests.reporting import list_query_counts

ROWS = 40


@pytest.fixture
def lists(app, users, make_account, make_order):
    """ROWS finished, invoiced orders on one account, then ROWS more on ROWS accounts
    (newest, so the first page of the unfiltered lists spans ROWS accounts)."""
    single = make_account(legal_name="Uma Conta Ltda.")
    many = [make_account(legal_name=f"Conta {n:02d} Ltda.") for n in range(ROWS)]
    orders = [make_order(account_id, status="done") for account_id in [single] * ROWS + many]
    with app.app_context():
        clerk = db.session.get(User, users["service"])
        for order_id in orders:
            services.issue_invoice(db.session.get(ServiceOrder, order_id),
                                   {"issue_date": "01/12/2026", "due_date": "31/01/2027",
                                    "installments": "2"}, user=clerk)
        db.session.remove()
    return single


@pytest.mark.parametrize("path", ["/service/", "/service/invoices"])
def test_a_list_page_runs_the_same_queries_whatever_its_size_and_accounts(
        app, client, users, lists, path, monkeypatch):
    login_as(client, users["service"])
    counts = list_query_counts(app, client, path, lists, sizes=(5, ROWS))
    monkeypatch.setitem(app.config, "ERP_PAGE_SIZE", ROWS)
    html = client.get(path).get_data(as_text=True)
    assert html.count("Conta ") >= ROWS  # the page shows ROWS rows of ROWS accounts
    assert len(set(counts.values())) == 1, counts
