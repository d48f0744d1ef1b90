"""The funnel report against a hand-computed history: reached, value, conversion, win
rate, days in stage, cycle time; scope, CSV, chart, permissions and cost."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from erp.auth.models import User
from erp.db import db
from modules.crm.reports import funnel as service
from modules.crm.reports import views
from modules.crm.reports.filters import Filters
from tests.conftest import login_as
from tests.crm.reports_history import PR, C, E, N, P, jan, make
from tests.reporting import by_class, csv_rows, html_table, queries_for, same_figures, svgs

AS_OF = datetime(2026, 2, 1, 12, tzinfo=UTC)
JANUARY = {"start": "2026-01-01", "end": "2026-01-31"}

@pytest.fixture
def history(app, users, pipeline, make_account):
    """Seven opportunities, times at noon UTC; `as of` is 1 February, noon.

    rep_a (O1–O5):
      O1 1000: P Jan 1 → C Jan 3 → Pr Jan 8 → won Jan 10     (P 2d, C 5d, Pr 2d; cycle 9)
      O2  500: P Jan 2 → C Jan 6 → lost Jan 7                 (P 4d, C 1d)
      O3  300: P Jan 5 → Pr Jan 6 (skips C), open             (P 1d, Pr 26d)
      O4  200: P Jan 10, open                                  (P 22d)
      O5 2000: P Jan 3 → C Jan 4 → lost Jan 5 → reopened Jan 15 → N Jan 20 → won Jan 25
               (P 1d; C 1d + 5d = 6d, the 10 lost days do not count; N 5d; cycle 22)
    rep_b (same team): O8 100: P Jan 12 → C Jan 14, open       (P 2d, C 18d)
    rep_c (other team): O6 999: P Jan 2, open                  (P 30d)
    And one created in December (outside the period).
    """
    a = make_account(owner="rep_a", legal_name="Conta A Ltda.")
    b = make_account(owner="rep_b", legal_name="Conta B Ltda.")
    c = make_account(owner="rep_c", legal_name="Conta C Ltda.")
    args = (app, users, pipeline)
    make(*args, a, value="1000", status="won", history=[
        (jan(1), "created", P), (jan(3), "stage", C), (jan(8), "stage", PR),
        (jan(10), "status", "won")])
    make(*args, a, value="500", status="lost", loss_reason="Preço muito alto", history=[
        (jan(2), "created", P), (jan(6), "stage", C),
        (jan(7), "status", "lost: Preço muito alto")])
    make(*args, a, value="300", history=[(jan(5), "created", P), (jan(6), "stage", PR)])
    make(*args, a, value="200", history=[(jan(10), "created", P),
                                         (jan(10), "owner", "Rep_A")])  # not a stage event
    make(*args, a, value="2000", status="won", history=[
        (jan(3), "created", P), (jan(4), "stage", C), (jan(5), "status", "lost: Preço"),
        (jan(15), "status", "open"), (jan(20), "stage", N), (jan(25), "status", "won")])
    make(*args, b, owner="rep_b", value="100", history=[(jan(12), "created", P),
                                                        (jan(14), "stage", C)])
    make(*args, c, owner="rep_c", value="999", history=[(jan(2), "created", P)])
    make(*args, a, value="777", history=[(jan(20, 12, 2025), "created", P)])


def run(app, users, who: str, **filters) -> service.FunnelReport:
    with app.app_context(), app.test_request_context():
        user = db.session.get(User, users[who])
        return service.funnel_report(
            user, Filters(start=date(2026, 1, 1), end=date(2026, 1, 31), **filters), AS_OF)


def per_stage(report, attribute: str) -> list:
    return [getattr(s, attribute) for s in report.stages]


def d(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def test_rep_figures_match_the_hand_computation(app, users, history):
    report = run(app, users, "rep_a")
    assert per_stage(report, "name") == [P, C, PR, N, E]
    # Reached: entered the stage or a later one, or won.
    assert per_stage(report, "reached") == [5, 4, 3, 2, 2]
    assert per_stage(report, "reached_value") == [d("4000.00"), d("3800.00"), d("3300.00"),
                                                  d("3000.00"), d("3000.00")]
    assert per_stage(report, "open_now") == [1, 0, 1, 0, 0]
    assert per_stage(report, "open_value") == [d("200.00"), 0, d("300.00"), 0, 0]
    # Conversion to the next stage; the last one's is to Won (2 of 2).
    assert per_stage(report, "conversion") == [d("80.0"), d("75.0"), d("66.7"), d("100.0"),
                                               d("100.0")]
    # Average days in stage: P (2+4+1+22+1)/5, C (5+1+6)/3, Pr (2+26)/2, N 5/1, E none.
    assert per_stage(report, "average_days") == [d("6.0"), d("4.0"), d("14.0"), d("5.0"),
                                                 None]
    assert (report.created, report.open, report.won, report.lost) == (5, 2, 2, 1)
    assert report.won_value == d("3000.00")
    assert report.win_rate == d("66.7")  # 2 won of 3 closed
    assert report.average_cycle_days == d("15.5")  # (9 + 22) / 2


def test_manager_sees_the_team_and_admin_everyone(app, users, history):
    manager = run(app, users, "manager")  # adds rep_b's O8
    assert per_stage(manager, "reached") == [6, 5, 3, 2, 2]
    assert per_stage(manager, "reached_value")[:2] == [d("4100.00"), d("3900.00")]
    assert per_stage(manager, "average_days")[:2] == [d("5.3"), d("7.5")]  # 32/6, 30/4
    assert manager.created == 6
    admin = run(app, users, "admin")  # and rep_c's O6
    assert per_stage(admin, "reached")[0] == 7
    assert per_stage(admin, "average_days")[0] == d("8.9")  # 62/7
    rep_c = run(app, users, "rep_c")
    assert (rep_c.created, per_stage(rep_c, "reached")) == (1, [1, 0, 0, 0, 0])
    assert per_stage(rep_c, "conversion") == [d("0.0"), None, None, None, None]
    assert rep_c.win_rate is None and rep_c.average_cycle_days is None
    # The owner filter narrows; it never widens.
    only_b = run(app, users, "manager", user_id=users["rep_b"])
    assert only_b.created == 1
    assert run(app, users, "rep_a", user_id=users["rep_c"]).created == 0


def test_a_renamed_stage_keeps_its_old_stays(app, users, history, pipeline):
    """Issue 19: the history names stages by id, so renaming a stage (here after its
    stays were recorded under the old name) changes none of the figures."""
    from modules.crm.models import OpportunityChange, Stage

    before = run(app, users, "rep_a")
    with app.app_context():
        db.session.get(Stage, pipeline["stages"][PR]).name = "Proposta enviada"
        db.session.get(Stage, pipeline["stages"][C]).name = "Primeiro contato"
        db.session.commit()
        # The history keeps the name as it was, for display.
        assert db.session.query(OpportunityChange).filter_by(new_value=PR).count() == 2
    report = run(app, users, "rep_a")
    assert per_stage(report, "name") == [P, "Primeiro contato", "Proposta enviada", N, E]
    assert per_stage(report, "reached") == [5, 4, 3, 2, 2]
    assert per_stage(report, "average_days") == per_stage(before, "average_days") == [
        d("6.0"), d("4.0"), d("14.0"), d("5.0"), None]
    assert report.average_cycle_days == before.average_cycle_days


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr(views, "utcnow", lambda: AS_OF)


def test_page_table_summary_chart_and_csv(app, client, users, history, frozen_now):
    login_as(client, users["rep_a"])
    response = client.get("/crm/reports/funnel", query_string=JANUARY)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    table = html_table(html, "funnel-report")
    assert table[0] == ["Stage", "Reached", "Value reached", "Open now", "Open value",
                        "Conversion to next (%)", "Average days in stage"]
    assert [row[0] for row in table[1:]] == [P, C, PR, N, E, "Won"]
    assert table[1] == [P, "5", "R$4,000.00", "1", "R$200.00", "80.0%", "6.0"]
    assert table[3] == [PR, "3", "R$3,300.00", "1", "R$300.00", "66.7%", "14.0"]
    assert table[6] == ["Won", "2", "R$3,000.00", "—", "—", "—", "—"]
    summary = dict(re.findall(r'data-figure="(\w+)">\s*<dt[^>]*>[^<]*</dt>\s*'
                              r'<dd[^>]*>([^<]*)</dd>', html))
    assert summary == {"created": "5", "open": "2", "won": "2", "lost": "1",
                       "win_rate": "66.7%", "cycle": "15.5"}
    # Funnel bars: one per stage and one for Won, widths in proportion to "reached".
    (svg,) = svgs(html)
    bars = by_class(svg, "rect", "bar")
    assert len(bars) == 6
    widths = [float(b.get("width")) for b in bars]
    assert widths[1] == pytest.approx(widths[0] * 4 / 5, abs=0.1)
    export = client.get("/crm/reports/funnel", query_string={**JANUARY, "format": "csv"})
    same_figures(table, csv_rows(export))
    assert csv_rows(export)[1] == [P, "5", "4000.00", "1", "200.00", "80.0", "6.0"]


def test_empty_period_and_bad_input(app, client, users, history):
    login_as(client, users["rep_a"])
    response = client.get("/crm/reports/funnel",
                          query_string={"start": "2001-01-01", "end": "2001-12-31"})
    assert response.status_code == 200
    assert "No opportunity was created in this period." in response.get_data(as_text=True)
    assert client.get("/crm/reports/funnel", query_string={"end": "not a date"}
                      ).status_code == 400


def test_permission_and_login(app, client, users):
    login_as(client, users["nobody"])
    assert client.get("/crm/reports/funnel").status_code == 403
    assert client.get("/crm/reports/funnel?format=csv").status_code == 403
    response = app.test_client().get("/crm/reports/funnel")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_query_count_does_not_grow_with_the_opportunities(app, client, users, pipeline,
                                                         make_account):
    account = make_account(owner="rep_a")
    args = (app, users, pipeline)
    make(*args, account, value="10", history=[(jan(2), "created", P), (jan(3), "stage", C)])
    make(*args, account, value="10", status="won",
         history=[(jan(2), "created", P), (jan(4), "status", "won")])
    login_as(client, users["manager"])
    urls = ["/crm/reports/funnel?start=2026-01-01&end=2026-01-31",
            "/crm/reports/funnel?start=2026-01-01&end=2026-01-31&format=csv"]
    small = [queries_for(app, client, url) for url in urls]
    for day in range(2, 20):
        make(*args, account, owner="rep_b" if day % 2 else "rep_a", value=str(day * 10),
             status="lost" if day % 3 == 0 else "open",
             history=[(jan(day), "created", P), (jan(day + 1), "stage", C),
                      (jan(day + 2), "stage", N)]
             + ([(jan(day + 3), "status", "lost: x")] if day % 3 == 0 else []))
    assert [queries_for(app, client, url) for url in urls] == small
