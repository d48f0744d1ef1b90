"""The loss reasons report: lost count and value by reason and by stage where lost."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erp.auth.models import User
from erp.db import db
from modules.crm.reports import losses as service
from modules.crm.reports.filters import Filters
from tests.conftest import login_as
from tests.crm.reports_history import PR, C, P, jan, make
from tests.reporting import by_class, csv_rows, html_table, queries_for, same_figures, svgs

JANUARY = {"start": "2026-01-01", "end": "2026-01-31"}
PRICE, TERM, SERVICE = "Preço muito alto", "Prazo de entrega longo", "Mau atendimento"


def lose(app, users, pipeline, account, *, owner="rep_a", value, reason, stage, on):
    return make(app, users, pipeline, account, owner=owner, value=value, status="lost",
                loss_reason=reason, history=[(jan(1, on.month, on.year), "created", P),
                                             *([(jan(1, on.month, on.year), "stage", stage)]
                                               if stage != P else []),
                                             (jan(on.day, on.month, on.year), "status",
                                              f"lost: {reason}")])


@pytest.fixture
def losses(app, users, pipeline, make_account):
    """rep_a: 500 at C for price (Jan 7), 700 at P for delivery time (Jan 20), 100 at P for
    price (Jan 9), 40 in December (outside). rep_b: 50 at Pr for price. rep_c: 10 at P for
    bad service. Plus one lost and reopened (not lost any more) and one open."""
    a = make_account(owner="rep_a", legal_name="Conta A Ltda.")
    b = make_account(owner="rep_b", legal_name="Conta B Ltda.")
    c = make_account(owner="rep_c", legal_name="Conta C Ltda.")
    args = (app, users, pipeline)
    lose(*args, a, value="500", reason=PRICE, stage=C, on=date(2026, 1, 7))
    lose(*args, a, value="700", reason=TERM, stage=P, on=date(2026, 1, 20))
    lose(*args, a, value="100", reason=PRICE, stage=P, on=date(2026, 1, 9))
    lose(*args, a, value="40", reason=PRICE, stage=P, on=date(2025, 12, 9))
    lose(*args, b, owner="rep_b", value="50", reason=PRICE, stage=PR, on=date(2026, 1, 21))
    lose(*args, c, owner="rep_c", value="10", reason=SERVICE, stage=P, on=date(2026, 1, 22))
    make(*args, a, value="3000", history=[(jan(2), "created", P),
                                          (jan(3), "status", "lost: x"),
                                          (jan(4), "status", "open")])
    make(*args, a, value="9", history=[(jan(2), "created", P)])


def run(app, users, who, **filters):
    with app.app_context(), app.test_request_context():
        user = db.session.get(User, users[who])
        report = service.losses_report(
            user, Filters(start=date(2026, 1, 1), end=date(2026, 1, 31), **filters))
    return report


def lines(items) -> list[tuple]:
    return [(i.name, i.lost, i.value, i.share) for i in items]


def test_rep_figures(app, users, losses):
    report = run(app, users, "rep_a")
    assert lines(report.by_reason) == [(PRICE, 2, Decimal("600.00"), Decimal("66.7")),
                                       (TERM, 1, Decimal("700.00"), Decimal("33.3"))]
    assert lines(report.by_stage) == [(P, 2, Decimal("800.00"), Decimal("66.7")),
                                      (C, 1, Decimal("500.00"), Decimal("33.3"))]
    assert (report.lost, report.value) == (3, Decimal("1300.00"))


def test_scope_manager_and_admin(app, users, losses):
    manager = run(app, users, "manager")
    assert lines(manager.by_reason) == [(PRICE, 3, Decimal("650.00"), Decimal("75.0")),
                                        (TERM, 1, Decimal("700.00"), Decimal("25.0"))]
    assert [(s.name, s.lost) for s in manager.by_stage] == [(P, 2), (C, 1), (PR, 1)]
    admin = run(app, users, "admin")
    assert [(r.name, r.lost) for r in admin.by_reason] == [(PRICE, 3), (SERVICE, 1), (TERM, 1)]
    assert [(s.name, s.lost, s.value) for s in admin.by_stage][0] == (P, 3, Decimal("810.00"))
    assert lines(run(app, users, "rep_c").by_reason) == [(SERVICE, 1, Decimal("10.00"),
                                                         Decimal("100.0"))]
    assert run(app, users, "manager", user_id=users["rep_b"]).lost == 1


def test_page_charts_tables_and_csvs(app, client, users, losses):
    login_as(client, users["manager"])
    response = client.get("/crm/reports/losses", query_string=JANUARY)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    by_reason = html_table(html, "losses-by-reason")
    assert by_reason == [["Loss reason", "Lost", "Value lost", "Share of lost (%)"],
                         [PRICE, "3", "R$650.00", "75.0%"], [TERM, "1", "R$700.00", "25.0%"],
                         ["Total", "4", "R$1,350.00", "100.0%"]]
    by_stage = html_table(html, "losses-by-stage")
    assert [row[:2] for row in by_stage[1:]] == [[P, "2"], [C, "1"], [PR, "1"],
                                                 ["Total", "4"]]
    charts = svgs(html)
    assert [c.get("id") for c in charts] == ["losses-reasons-chart", "losses-stages-chart"]
    bars = [by_class(c, "rect", "bar") for c in charts]
    assert [len(b) for b in bars] == [2, 3]
    same_figures(by_reason, csv_rows(client.get(
        "/crm/reports/losses", query_string={**JANUARY, "format": "csv", "table": "reasons"})))
    same_figures(by_stage, csv_rows(client.get(
        "/crm/reports/losses", query_string={**JANUARY, "format": "csv", "table": "stages"})))


def test_empty_state_and_permissions(app, client, users, losses):
    login_as(client, users["rep_a"])
    html = client.get("/crm/reports/losses", query_string={"start": "2001-01-01",
                                                           "end": "2001-01-31"}
                      ).get_data(as_text=True)
    assert "No opportunity was lost in this period." in html and "<svg" not in html
    login_as(client, users["nobody"])
    assert client.get("/crm/reports/losses").status_code == 403
    response = app.test_client().get("/crm/reports/losses")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_query_count_does_not_grow(app, client, users, pipeline, make_account):
    account = make_account(owner="rep_a")
    args = (app, users, pipeline)
    lose(*args, account, value="1", reason=PRICE, stage=P, on=date(2026, 1, 5))
    lose(*args, account, value="1", reason=TERM, stage=C, on=date(2026, 1, 6))
    login_as(client, users["admin"])
    urls = ["/crm/reports/losses?start=2026-01-01&end=2026-01-31",
            "/crm/reports/losses?start=2026-01-01&end=2026-01-31&format=csv&table=stages"]
    small = [queries_for(app, client, url) for url in urls]
    reasons, stages = (PRICE, TERM, SERVICE), (P, C, PR)
    for day in range(2, 20):
        lose(*args, account, owner=("rep_a", "rep_b", "rep_c")[day % 3], value=str(day),
             reason=reasons[day % 3], stage=stages[(day // 3) % 3], on=date(2026, 1, day))
    assert [queries_for(app, client, url) for url in urls] == small
