"""The sales lists run a fixed number of queries (issue 15): a page of quotes, orders or
invoices loads its rows' accounts (and their tags) together, not one account per row, so the
count is the same with 5 rows or 40 on the page, and with one account or many behind them."""

from __future__ import annotations

import pytest

from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account
from modules.sales import services
from tests.conftest import login_as
from tests.reporting import list_query_counts
from tests.sales.support import LATER, TODAY, line

ROWS = 40


def _documents(account_ids: list[int], rep: User) -> None:
    """A quote, an order and its invoice for each account id (repeats allowed)."""
    for account_id in account_ids:
        account = db.session.get(Account, account_id)
        services.create_quote(account, {"valid_until": LATER.isoformat(), "lines": [line()]},
                              user=rep)
        order = services.create_order(account, {"lines": [line()]}, user=rep)
        services.issue_invoice(order, {"issue_date": TODAY.isoformat(), "installments": "1",
                                       "first_due_date": LATER.isoformat()}, user=rep)


@pytest.fixture
def lists(app, users, make_account):
    """ROWS documents of each kind on one account, then ROWS more on ROWS accounts (newest,
    so the first page of the unfiltered lists spans ROWS accounts)."""
    single = make_account(legal_name="Uma Conta Ltda.")
    many = [make_account(legal_name=f"Conta {n:02d} Ltda.") for n in range(ROWS)]
    with app.app_context():
        rep = db.session.get(User, users["rep_a"])
        _documents([single] * ROWS, rep)
        _documents(many, rep)
        db.session.remove()
    return single


@pytest.mark.parametrize("path", ["/sales/quotes", "/sales/orders", "/sales/invoices"])
def test_a_list_page_runs_the_same_queries_whatever_its_size_and_accounts(
        app, client, users, lists, path, monkeypatch):
    login_as(client, users["rep_a"])
    counts = list_query_counts(app, client, path, lists, sizes=(5, ROWS))
    monkeypatch.setitem(app.config, "ERP_PAGE_SIZE", ROWS)
    html = client.get(path).get_data(as_text=True)
    assert html.count("Conta ") >= ROWS  # the page shows ROWS rows of ROWS accounts
    assert len(set(counts.values())) == 1, counts
