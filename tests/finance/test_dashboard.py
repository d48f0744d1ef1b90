"""Finance's home-dashboard widget: overdue receivables in the user's record scope — count,
what is still owed, the oldest few — with the computed status (never stored)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from erp.auth.models import Role, User
from erp.clock import local_today
from erp.db import db
from modules.finance import dashboard
from modules.finance.models import Receivable
from modules.finance.services import cancel_receivable
from tests.conftest import login_as
from tests.finance.conftest import TODAY

LONG_AGO = date(2020, 1, 1)


def user(users, name: str) -> User:
    return db.session.get(User, users[name])


def widget(html: str) -> str:
    start = html.index('data-widget="finance.overdue"')
    return html[start:html.index("</section>", start)]


@pytest.fixture
def reps_read_finance(app):
    """Give the sales reps finance.read, to see their own scope (not granted by default)."""
    with app.app_context():
        role = db.session.scalar(db.select(Role).where(Role.name == "sales_rep"))
        role.permissions = sorted({*role.permissions, "finance.read"})
        db.session.commit()
        db.session.remove()


@pytest.fixture
def book(app, users, make_account, make_receivables, pay):
    """Receivables as of ``TODAY`` (2026-11-23), by account owner:

    rep_a: A1 100 due 10/10 (paid 30: 70 owed), A2 200 due 20/11, A3 50 due 23/11 (today:
    not overdue), A4 80 due 01/11 (paid in full), A5 60 due 05/11 (cancelled);
    rep_b (same team): B1 300 due 01/09;  rep_c (other team): C1 1000 due 01/08.
    """
    mine = make_account(owner="rep_a", legal_name="Cliente A Ltda.")
    team = make_account(owner="rep_b", legal_name="Cliente B Ltda.", trade_name="Bê")
    other = make_account(owner="rep_c", legal_name="Cliente C Ltda.")

    def receivable(account, document, amount, due):
        (ident,) = make_receivables(account, document=document, amount=amount, due_date=due,
                                    today=LONG_AGO)
        return ident

    ids = {
        "A1": receivable(mine, "A1", "100", date(2026, 10, 10)),
        "A2": receivable(mine, "A2", "200", date(2026, 11, 20)),
        "A3": receivable(mine, "A3", "50", TODAY),
        "A4": receivable(mine, "A4", "80", date(2026, 11, 1)),
        "A5": receivable(mine, "A5", "60", date(2026, 11, 5)),
        "B1": receivable(team, "B1", "300", date(2026, 9, 1)),
        "C1": receivable(other, "C1", "1000", date(2026, 8, 1)),
    }
    pay(ids["A1"], "30")
    pay(ids["A4"], "80")
    with app.app_context():
        cancel_receivable(db.session.get(Receivable, ids["A5"]), user=user(users, "finance"))
        db.session.remove()
    return ids


def test_overdue_figures_follow_the_record_scope(app, users, book, reps_read_finance):
    with app.app_context():
        rep = dashboard.overdue_summary(user(users, "rep_a"), TODAY)
        assert (rep.count, rep.outstanding) == (2, Decimal("270.00"))  # A1 (70) + A2 (200)
        assert [r.id for r in rep.oldest] == [book["A1"], book["A2"]]
        assert [r.outstanding for r in rep.oldest] == [Decimal("70.00"), Decimal("200.00")]

        manager = dashboard.overdue_summary(user(users, "manager"), TODAY)  # the team
        assert (manager.count, manager.outstanding) == (3, Decimal("570.00"))
        assert [r.id for r in manager.oldest] == [book["B1"], book["A1"], book["A2"]]
        assert manager.oldest[0].account_name == "Bê"

        clerk = dashboard.overdue_summary(user(users, "finance"), TODAY)  # every account
        assert (clerk.count, clerk.outstanding) == (4, Decimal("1570.00"))
        assert [r.id for r in clerk.oldest][:2] == [book["C1"], book["B1"]]
        assert len(dashboard.overdue_summary(user(users, "finance"), TODAY, limit=2).oldest) == 2

        # A day later, A3 (due today) is overdue too: the status is computed, not stored.
        tomorrow = dashboard.overdue_summary(user(users, "rep_a"), TODAY + timedelta(days=1))
        assert (tomorrow.count, tomorrow.outstanding) == (3, Decimal("320.00"))


def test_widget_on_the_home_page_matches_the_list_it_links_to(app, client, users,
                                                              make_account, make_receivables):
    account = make_account(owner="rep_a", legal_name="Cliente Atrasado Ltda.")
    with app.app_context():
        today = local_today()  # the manager's (the app's zone: no zone of their own)
    for days, amount in ((40, "100"), (3, "25,50")):
        make_receivables(account, document=f"Atraso {days}", amount=amount,
                         due_date=today - timedelta(days=days), today=LONG_AGO)
    make_receivables(account, document="Futuro", amount="999",
                     due_date=today + timedelta(days=5))
    login_as(client, users["manager"])
    html = widget(client.get("/").get_data(as_text=True))
    assert 'data-count="2"' in html and 'data-outstanding="125.50"' in html
    assert "40 days late" in html and "3 days late" in html and "Futuro" not in html
    link = re.search(r'href="(/finance/\?status=overdue)"', html).group(1)
    listed = client.get(link).get_data(as_text=True)
    assert len(re.findall(r'class="receivable[^"]*" data-receivable=', listed)) == 2


def test_no_widget_without_finance_read(client, users, book):
    login_as(client, users["rep_a"])  # a sales rep has no finance.read by default
    html = client.get("/").get_data(as_text=True)
    assert 'data-widget="crm.agenda"' in html and 'data-widget="finance.overdue"' not in html


def test_nothing_overdue_is_said(client, users):
    login_as(client, users["finance"])
    html = widget(client.get("/").get_data(as_text=True))
    assert 'data-count="0"' in html and "No receivable is overdue." in html


def test_two_queries_whatever_the_number_of_receivables(app, users, book, make_account,
                                                        make_receivables):
    account = make_account(owner="rep_c", legal_name="Muitos Ltda.")
    make_receivables(account, document="Parcelado", amount="1200", installments=12,
                     due_date=date(2025, 1, 10), today=LONG_AGO)
    with app.app_context():
        statements = []

        def listen(conn, cursor, statement, *args):
            statements.append(statement)

        clerk = user(users, "finance")
        assert clerk.record_scope  # the user's roles, read once a request: not the widget's
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            summary = dashboard.overdue_summary(clerk, TODAY)
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert summary.count == 16 and len(summary.oldest) == dashboard.OLDEST_SHOWN
        assert len(statements) == 2
