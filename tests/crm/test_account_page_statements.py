"""The account page's header figures run statements built once per process, the account and
the day bound when run (issue 15's throughput): building each statement and its cache key
anew cost several times the Python the prebuilt one does. Structural: the very same
statement objects on every view, once each; no timings."""

from __future__ import annotations

import pytest

from modules.crm.account_page import LAST_CONTACT
from modules.crm.views.accounts import HEADER_CONTACTS
from modules.finance.account_page import OPEN_OWED, OVERDUE_OWED
from modules.sales.services.invoices import INVOICED_BETWEEN
from modules.sales.services.orders import LAST_ORDER_DATE
from modules.service.account_page import OPEN_ORDERS
from tests.conftest import login_as
from tests.crm.test_account_page_queries import (  # noqa: F401 (fixtures)
    accounts,
    make_receivables,
    pay,
)
from tests.erp.test_statement_reuse import orm_statements

PREBUILT = {"open owed": OPEN_OWED, "overdue owed": OVERDUE_OWED, "last contact": LAST_CONTACT,
            "last order": LAST_ORDER_DATE, "invoiced this year": INVOICED_BETWEEN,
            "open service orders": OPEN_ORDERS, "header contacts": HEADER_CONTACTS}


@pytest.mark.parametrize("role", ["admin", "manager", "rep_a"])
def test_the_header_figures_run_the_same_statements_on_every_view(
        app, client, users, accounts, role):  # noqa: F811 (the fixture imported above)
    login_as(client, users[role])
    for name in ("whale", "ordinary", "whale"):
        with orm_statements() as seen:
            page = client.get(f"/crm/accounts/{accounts[name]}")
        assert page.status_code == 200
        for label, statement in PREBUILT.items():
            # A sales rep has no finance or service permission: none of their figures.
            shown = role != "rep_a" or label in ("last contact", "last order",
                                                 "invoiced this year", "header contacts")
            assert sum(s is statement for s in seen) == shown, label


def test_the_owed_figures_bind_the_account_and_the_day(app, users, accounts):  # noqa: F811
    from datetime import date

    from erp.db import db
    from modules.finance.account_page import _owed, owed_select
    from modules.finance.models import Receivable

    with app.app_context():
        whale = accounts["whale"]
        for day in (date(2026, 6, 9), date(2026, 8, 11), date(2027, 12, 31)):
            old_way = db.session.scalar(owed_select(whale, Receivable.due_date < day))
            assert _owed(whale, day) == old_way
        assert _owed(whale) == db.session.scalar(owed_select(whale)) > 0
        assert _owed(accounts["ordinary"]) == 0
        db.session.remove()


def timeline_builders():
    from modules.crm import timeline_sources as crm
    from modules.finance import account_page as finance
    from modules.sales import account_page as sales
    from modules.service import account_page as service

    return {"actions": crm._actions_select, "pipeline": crm._pipeline_select,
            "account events": crm._account_events_select, "sales": sales._events_select,
            "receivables": finance._created_select, "payments": finance._payments_select,
            "overdue": finance._overdue_select, "service": service._events_select}


def test_each_timeline_source_runs_its_first_page_statement_built_once(
        app, client, users, accounts):  # noqa: F811 (the fixture imported above)
    login_as(client, users["admin"])
    views = []
    for name in ("whale", "ordinary", "whale"):
        with orm_statements() as seen:
            assert client.get(f"/crm/accounts/{accounts[name]}").status_code == 200
        views.append(seen)
    # Another account, then the first again: the header figures and every timeline source's
    # first page are the very statements the first view ran.
    for later in views[1:]:
        shared = [s for s in later if any(s is first for first in views[0])]
        assert len(shared) >= len(PREBUILT) + len(timeline_builders()), len(shared)
    assert len(views[1]) == len(views[0])


def test_a_later_timeline_page_builds_its_own_statement(app):
    from datetime import UTC, datetime

    from erp.timeline import Cursor

    cursor = Cursor(datetime(2026, 5, 1, tzinfo=UTC), "crm.actions", 10)
    with app.app_context():
        for label, builder in timeline_builders().items():
            kinds = ("crm.call", "crm.won", "sales.quote_sent", "service.order_opened")
            first = builder(kinds, None)
            assert builder(list(kinds), None) is first, label
            assert builder(kinds, cursor) is not builder(kinds, cursor), label
            assert builder(kinds, cursor) is not first, label


def test_the_header_contacts_are_the_accounts_links_sorted_not_a_walk_of_all_contacts(
        app, make_account):
    """An account's first five contacts by name are read through its links and sorted:
    never by walking every contact in name order testing each for the account, a cost
    that grows with all the accounts' contacts (PostgreSQL chose it for a whale's
    hundreds). Sorts forbidden too on PostgreSQL: an index that gives the order would be
    walked; none does."""
    from erp.db import db
    from modules.crm.models import Account, AccountContact, Contact
    from tests.crm.plans import full_scans, query_plan

    account_id = make_account(legal_name="Muitos Contatos Ltda.")
    with app.app_context():
        owner_id = db.session.get(Account, account_id).owner_id
        for n in range(40):
            contact = Contact(name=f"Contato {n:02d}", owner_id=owner_id)
            db.session.add(contact)
            db.session.flush()
            if n % 4 == 0:
                db.session.add(AccountContact(account_id=account_id, contact_id=contact.id))
        db.session.commit()
        statement = HEADER_CONTACTS.params(account_id=account_id)
        plan = query_plan(statement, forbid_sort=True)
        assert not full_scans(plan, "crm_contact"), plan
        assert not full_scans(plan, "crm_account_contact"), plan
        names = [contact.name for _role, contact in db.session.execute(statement)]
        assert names == [f"Contato {n:02d}" for n in (0, 4, 8, 12, 16)]
