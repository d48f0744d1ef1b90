"""The account page does not grow with the account's history (issue 15): a whale (many
actions, contacts others own, receivables with payments, opportunities) runs the same
statements as an account with one action and nothing else, for the admin, a manager and
the owner, and its timeline shows one page."""

from __future__ import annotations

import re
from datetime import date

import pytest

from modules.crm.account_page import TIMELINE_PAGE
from tests.conftest import login_as
from tests.crm.test_account_page import add_actions
from tests.finance import conftest as finance_fixtures
from tests.reporting import queries_for

make_receivables = finance_fixtures.make_receivables
pay = finance_fixtures.pay


@pytest.fixture
def accounts(app, users, make_account, make_contact, make_opportunity, make_receivables, pay):
    ordinary = make_account(legal_name="Comum Ltda.")
    add_actions(app, users, ordinary, 1)
    whale = make_account(legal_name="Baleia S.A.")
    for n, owner in enumerate(["rep_b", "manager", "rep_a", "rep_b", "manager", "rep_a"] * 2):
        make_contact(owner, name=f"Contato {n:02d}", account_id=whale)
    for n in range(3):
        make_opportunity(whale, title=f"Negócio {n}")
    add_actions(app, users, whale, 3 * TIMELINE_PAGE)
    receivables = make_receivables(whale, installments=12, amount="1200,00",
                                   due_date=date(2026, 6, 10), issue_date=date(2026, 5, 1))
    for receivable_id in receivables[:6]:
        pay(receivable_id, "50,00")
    return {"ordinary": ordinary, "whale": whale}


@pytest.mark.parametrize("role", ["admin", "manager", "rep_a"])
def test_a_whale_page_runs_the_statements_of_an_ordinary_one(app, client, users, accounts,
                                                             role):
    login_as(client, users[role])
    whale = client.get(f"/crm/accounts/{accounts['whale']}").get_data(as_text=True)
    assert whale.count('class="timeline-event') == TIMELINE_PAGE
    assert len(re.findall(r'href="/crm/contacts/\d+"', whale)) >= 5  # the header's contacts
    counts = {name: queries_for(app, client, f"/crm/accounts/{account_id}")
              for name, account_id in accounts.items()}
    assert counts["whale"] == counts["ordinary"], counts
