"""Service's home-dashboard widget: open service orders (open or in progress) in the user's
record scope — how many in each status, the most recent few, and the links."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from erp.auth.models import User
from erp.db import db
from modules.service import dashboard
from tests.conftest import login_as


def user(users, name: str) -> User:
    return db.session.get(User, users[name])


def widget(html: str) -> str:
    start = html.index('data-widget="service.open_orders"')
    return html[start:html.index("</section>", start)]


@pytest.fixture
def orders(make_account, make_order):
    """By account owner — rep_a: 2 open, 1 in progress, 1 done, 1 cancelled; rep_b (same
    team): 1 in progress; rep_c (other team): 1 open. Returns their ids by name."""
    mine = make_account(owner="rep_a", legal_name="Conta do A Ltda.", trade_name="Conta A")
    team = make_account(owner="rep_b", legal_name="Conta do B Ltda.")
    other = make_account(owner="rep_c", legal_name="Conta do C Ltda.")
    return {
        "a_open_1": make_order(mine),
        "a_progress": make_order(mine, status="in_progress"),
        "a_done": make_order(mine, status="done"),
        "a_open_2": make_order(mine, description="Trocar o nobreak"),
        "a_cancelled": make_order(mine, status="cancelled"),
        "b_progress": make_order(team, status="in_progress"),
        "c_open": make_order(other),
    }


def test_counts_by_status_and_recent_follow_the_record_scope(app, users, orders,
                                                             reps_do_service):
    with app.app_context():
        rep = dashboard.open_orders_summary(user(users, "rep_a"))
        assert rep.by_status == {"open": 2, "in_progress": 1} and rep.count == 3
        assert [o.id for o in rep.recent] == [orders["a_open_2"], orders["a_progress"],
                                              orders["a_open_1"]]  # the newest first
        newest = rep.recent[0]
        assert (newest.account_name, newest.description, newest.status) == (
            "Conta A", "Trocar o nobreak", "open")
        assert newest.technician == "Service"

        manager = dashboard.open_orders_summary(user(users, "manager"))  # the team
        assert manager.by_status == {"open": 2, "in_progress": 2}
        assert orders["c_open"] not in [o.id for o in manager.recent]

        clerk = dashboard.open_orders_summary(user(users, "service"))  # every account
        assert clerk.by_status == {"open": 3, "in_progress": 2}
        assert [o.id for o in dashboard.open_orders_summary(user(users, "service"),
                                                            limit=2).recent] == [
            orders["c_open"], orders["b_progress"]]


def test_widget_on_the_home_page(app, client, users, orders):
    login_as(client, users["manager"])
    html = widget(client.get("/").get_data(as_text=True))
    assert 'data-count="4"' in html
    assert re.findall(r'data-figure="(\w+)" data-count="(\d+)"', html) == [
        ("open", "2"), ("in_progress", "2")]
    assert 'href="/service/?status=open"' in html and 'href="/service/?status=active"' in html
    shown = re.findall(r'data-order="(\d+)"', html)
    assert shown == [str(orders[k]) for k in ("b_progress", "a_open_2", "a_progress",
                                              "a_open_1")]
    listed = client.get("/service/?status=active").get_data(as_text=True)
    for ident in shown:  # the list behind the link holds them
        assert f'href="/service/orders/{ident}"' in listed


def test_no_widget_without_service_read(client, users, orders):
    login_as(client, users["rep_a"])  # a sales rep has no service.read by default
    html = client.get("/").get_data(as_text=True)
    assert 'data-widget="service.open_orders"' not in html


def test_no_open_order_is_said(client, users, make_account, make_order):
    make_order(make_account(), status="done")
    login_as(client, users["service"])
    html = widget(client.get("/").get_data(as_text=True))
    assert 'data-count="0"' in html and "No service order is open." in html


def test_two_queries_whatever_the_number_of_orders(app, users, make_account, make_order):
    account = make_account()
    for _ in range(8):
        make_order(account)
    with app.app_context():
        statements = []

        def listen(conn, cursor, statement, *args):
            statements.append(statement)

        clerk = user(users, "service")
        assert clerk.record_scope  # the user's roles, read once a request: not the widget's
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            summary = dashboard.open_orders_summary(clerk)
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert summary.count == 8 and len(summary.recent) == dashboard.RECENT_SHOWN
        assert len(statements) == 2


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", {"open": "2 Open", "in_progress": "1 In progress"}),
    ("pt_BR", {"open": "2 Abertas", "in_progress": "1 Em andamento"}),
])
def test_widget_counts_agree_in_number_with_their_status(app, client, users, orders,
                                                         reps_do_service, locale, expected):
    """Issue 17: "2 Abertas", not the singular status label "2 Aberta"."""
    with app.app_context():
        user(users, "rep_a").locale = locale
        db.session.commit()
    login_as(client, users["rep_a"])
    html = widget(client.get("/").get_data(as_text=True))
    found = {status: " ".join(re.sub(r"<[^>]+>", " ", text).split()) for status, text in
             re.findall(r'data-figure="(\w+)"[^>]*>(.*?)</a>', html, re.S)}
    assert found == expected
