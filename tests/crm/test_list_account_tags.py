"""Lists that show their rows' accounts by name do not load those accounts' tags (issue 15's
throughput): Account.tags is loaded with every account unless told otherwise, a statement
and a tag object per tag for nothing on the opportunities list and the sales lists. The
accounts list, which shows them, still loads them (one statement)."""

from __future__ import annotations

import pytest

from erp.auth.models import User
from erp.db import db
from erp.testing import count_queries
from modules.crm.models import Account, Tag
from modules.sales import services
from tests.conftest import login_as
from tests.sales.support import LATER, TODAY, line


@pytest.fixture
def tagged(app, users, make_account, make_opportunity):
    """Three accounts with a tag each, an opportunity and sales documents on each."""
    ids = [make_account(legal_name=f"Etiquetada {n} Ltda.") for n in range(3)]
    with app.app_context():
        tag = Tag(name="VIP", color="#ff0000")
        rep = db.session.get(User, users["rep_a"])
        for account_id in ids:
            account = db.session.get(Account, account_id)
            account.tags.append(tag)
            services.create_quote(account, {"valid_until": LATER.isoformat(),
                                            "lines": [line()]}, user=rep)
            order = services.create_order(account, {"lines": [line()]}, user=rep)
            services.issue_invoice(order, {"issue_date": TODAY.isoformat(),
                                           "installments": "1",
                                           "first_due_date": LATER.isoformat()}, user=rep)
        db.session.commit()
        db.session.remove()
    for account_id in ids:
        make_opportunity(account_id, title=f"Negócio {account_id}")
    return ids


def _tag_statements(app, client, path):
    with count_queries(app) as statements:
        page = client.get(path)
    assert page.status_code == 200
    return page.get_data(as_text=True), [s for s in statements if "crm_account_tag" in s]


@pytest.mark.parametrize("path", ["/crm/opportunities", "/sales/quotes", "/sales/orders",
                                  "/sales/invoices"])
def test_lists_of_rows_with_an_account_read_no_account_tags(app, client, users, tagged, path):
    login_as(client, users["rep_a"])
    html, statements = _tag_statements(app, client, path)
    assert "Etiquetada 2 Ltda." in html
    assert statements == []


def test_the_accounts_list_still_shows_them(app, client, users, tagged):
    login_as(client, users["rep_a"])
    html, statements = _tag_statements(app, client, "/crm/accounts")
    assert html.count(">VIP</span>") == 3
    assert len(statements) == 1
