"""The home dashboard with every subset of the modules that contribute to it: only the
installed modules' widgets appear, a failing one becomes a notice, and the page costs the
same number of queries with few rows or many."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import combinations

import pytest
from sqlalchemy import event

from erp.auth.models import User
from erp.clock import local_today
from erp.db import db
from erp.registry import DashboardWidget
from modules.crm.services import actions as action_service
from tests.conftest import login_as

SIBLINGS = ("sales", "finance", "service")
SUBSETS = [combo for size in range(len(SIBLINGS) + 1) for combo in combinations(SIBLINGS, size)]


def widget_keys(html: str) -> list[str]:
    return re.findall(r'data-widget="([^"]+)"', html)


@pytest.mark.parametrize("enabled", SUBSETS, ids=lambda combo: "+".join(combo) or "crm-only")
def test_only_the_installed_modules_contribute(app, make_app, users, enabled):
    everything = app.extensions["erp"]
    by_module = {w.key: everything.module_of(DashboardWidget, w.key)
                 for w in everything.items(DashboardWidget, None, check_permission=False)}
    assert {"crm", "finance", "service"} <= set(by_module.values())
    subset_app = make_app(ERP_MODULES=["crm", *enabled])
    client = subset_app.test_client()
    login_as(client, users["admin"])  # may see every widget
    response = client.get("/")
    assert response.status_code == 200
    shown = widget_keys(response.get_data(as_text=True))
    expected = [key for key in by_module if by_module[key] in ("crm", *enabled)]
    assert shown == expected  # in the registry's order
    assert "data-widget-failed" not in response.get_data(as_text=True)


def test_a_failing_module_widget_is_a_notice(app, client, users, monkeypatch):
    from modules.finance import dashboard as finance_dashboard

    def broken(*args, **kwargs):
        raise ZeroDivisionError("finance is down")

    monkeypatch.setattr(finance_dashboard, "overdue_summary", broken)
    login_as(client, users["admin"])
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    failed = re.findall(r'data-widget="([^"]+)"[^>]*data-widget-failed', html)
    assert failed == ["finance.overdue"]
    assert "could not be shown" in html and "finance is down" not in html
    assert widget_keys(html) == ["crm.agenda", "crm.pipeline", "finance.overdue",
                                 "service.open_orders"]


# --- cost ---------------------------------------------------------------------------------


def queries_for_home(app, client) -> int:
    statements = []

    def listen(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        response = client.get("/")
        assert response.status_code == 200
        assert "data-widget-failed" not in response.get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return len(statements)


def add_rows(app, users, *, accounts, n: int) -> None:
    """``n`` of everything each widget counts, for rep_a: planned actions (overdue and
    today), open opportunities (with items), overdue receivables and open service orders."""
    from modules.crm.models import Account
    from modules.crm.services.opportunities import create_opportunity
    from modules.crm.services.settings import ensure_defaults, stages
    from modules.finance.services import create_receivables
    from modules.service.services import create_order

    with app.app_context(), app.test_request_context():
        ensure_defaults()
        rep, clerk, technician = (db.session.get(User, users[name])
                                  for name in ("rep_a", "finance", "service"))
        today = local_today()
        funnel = stages()
        for i in range(n):
            account = db.session.get(Account, accounts[i % len(accounts)])
            day = today - timedelta(days=i % 3)  # overdue and today
            action_service.create_action({"account_id": account.id, "kind": "call",
                                          "at": f"{day.isoformat()}T10:00", "done": "0"},
                                         user=rep)
            create_opportunity({"account_id": account.id, "title": f"Oportunidade {i}",
                                "stage_id": funnel[i % len(funnel)].id,
                                "items": [{"description": "Item", "unit_price": "10"}]},
                               user=rep)
            create_receivables(account, {"document": f"Doc {i}", "amount": "100",
                                         "due_date": today - timedelta(days=i + 1)},
                               user=clerk, today=date(2020, 1, 1))
            create_order(account, {"description": f"OS {i}", "technician_id": technician.id,
                                   "items": [{"description": "Cabo", "quantity": "1",
                                              "unit_price": "5"}]}, user=technician)
        db.session.remove()


@pytest.mark.parametrize("who", ["rep_a", "manager", "admin"])
def test_home_costs_the_same_with_few_or_many_rows(app, client, users, make_account, who):
    with app.app_context():  # the sales reps read finance and service too, for this test
        from erp.auth.models import Role

        role = db.session.scalar(db.select(Role).where(Role.name == "sales_rep"))
        role.permissions = sorted({*role.permissions, "finance.read", "service.read"})
        db.session.commit()
        db.session.remove()
    accounts = [make_account(legal_name=f"Conta {i} Ltda.") for i in range(3)]
    add_rows(app, users, accounts=accounts, n=2)
    login_as(client, users[who])
    client.get("/")  # warm up (first-request work, caches)
    few = queries_for_home(app, client)
    html = client.get("/").get_data(as_text=True)
    assert len(widget_keys(html)) == 4
    add_rows(app, users, accounts=accounts, n=40)
    many = queries_for_home(app, client)
    assert few == many
    html = client.get("/").get_data(as_text=True)
    # The figures did grow: the same queries, more rows behind them.
    assert 'class="finance-overdue-widget" data-count="42"' in html
    assert 'class="service-orders-widget" data-count="42"' in html
