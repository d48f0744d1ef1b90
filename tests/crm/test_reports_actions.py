"""The CRM actions report: figures by user × type, scope, filters, drill-down, chart, CSV,
permissions and cost."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from erp.auth.models import Team
from erp.db import db
from modules.crm.models import Action
from modules.crm.reports import actions as service
from modules.crm.reports.filters import Filters
from tests.conftest import login_as
from tests.reporting import by_class, csv_rows, html_table, queries_for, same_figures, svgs

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()
PERIOD = {"start": (TODAY - timedelta(days=10)).isoformat(),
          "end": (TODAY + timedelta(days=10)).isoformat()}

DONE_AGO, PLANNED_IN, OVERDUE_AGO = timedelta(days=-1), timedelta(days=2), timedelta(days=-2)


def add_actions(app, users, account_id, who: str, kind: str, *, done=0, planned=0,
                overdue=0, at=None):
    """``done`` done, ``planned`` future and ``overdue`` past-but-not-done actions."""
    with app.app_context():
        for count, offset, is_done in ((done, DONE_AGO, True), (planned, PLANNED_IN, False),
                                       (overdue, OVERDUE_AGO, False)):
            for _ in range(count):
                db.session.add(Action(account_id=account_id, kind=kind, user_id=users[who],
                                      at=at or NOW + offset, done=is_done, description="x"))
        db.session.commit()


@pytest.fixture
def fixture(app, users, make_account):
    """rep_a: 2 calls done + 1 overdue, 1 e-mail planned, 1 meeting done (and a call done
    long ago, outside the period); rep_b (same team): 1 call done, 2 visits overdue;
    rep_c (other team): 3 calls done."""
    a = make_account(owner="rep_a", legal_name="Conta A Ltda.")
    b = make_account(owner="rep_b", legal_name="Conta B Ltda.")
    c = make_account(owner="rep_c", legal_name="Conta C Ltda.")
    add_actions(app, users, a, "rep_a", "call", done=2, overdue=1)
    add_actions(app, users, a, "rep_a", "email", planned=1)
    add_actions(app, users, a, "rep_a", "meeting", done=1)
    add_actions(app, users, a, "rep_a", "call", done=1, at=NOW - timedelta(days=40))
    add_actions(app, users, b, "rep_b", "call", done=1)
    add_actions(app, users, b, "rep_b", "visit", overdue=2)
    add_actions(app, users, c, "rep_c", "call", done=3)
    return {"a": a, "b": b, "c": c}


def report_rows(app, users, who: str, **filters) -> list[tuple]:
    from erp.auth.models import User

    with app.app_context(), app.test_request_context():
        user = db.session.get(User, users[who])
        data = service.actions_report(user, Filters(
            start=TODAY - timedelta(days=10), end=TODAY + timedelta(days=10), **filters), NOW)
        return [(r.user_name, r.kind, r.done, r.planned, r.overdue) for r in data.rows]


REP_A = [("Rep_A", "call", 2, 0, 1), ("Rep_A", "email", 0, 1, 0),
         ("Rep_A", "meeting", 1, 0, 0)]
REP_B = [("Rep_B", "call", 1, 0, 0), ("Rep_B", "visit", 0, 0, 2)]
REP_C = [("Rep_C", "call", 3, 0, 0)]


def test_figures_by_user_and_type_within_each_scope(app, users, fixture):
    assert report_rows(app, users, "admin") == REP_A + REP_B + REP_C
    assert report_rows(app, users, "manager") == REP_A + REP_B  # the team, not rep_c
    assert report_rows(app, users, "rep_a") == REP_A  # a rep: their own
    assert report_rows(app, users, "rep_b") == REP_B
    assert report_rows(app, users, "rep_c") == REP_C


def test_filters_by_type_user_and_team(app, users, fixture):
    assert report_rows(app, users, "admin", kind="call") == [REP_A[0], REP_B[0], REP_C[0]]
    assert report_rows(app, users, "manager", user_id=users["rep_b"]) == REP_B
    with app.app_context():
        other = db.session.scalar(db.select(Team.id).where(Team.name == "Other"))
    assert report_rows(app, users, "admin", team_id=other) == REP_C
    # A filter cannot widen the scope: rep_a asking for rep_c's figures gets nothing.
    assert report_rows(app, users, "rep_a", user_id=users["rep_c"]) == []


def test_period_bounds_are_the_users_days(app, users, fixture):
    """An action at 01:00 UTC on day D is on day D-1 in São Paulo (UTC-3)."""
    late = datetime.combine(TODAY - timedelta(days=20), datetime.min.time(),
                            tzinfo=UTC) + timedelta(hours=1)
    add_actions(app, users, fixture["a"], "rep_a", "note", done=1, at=late)
    from erp.auth.models import User

    with app.app_context(), app.test_request_context():
        user = db.session.get(User, users["rep_a"])
        day = late.date()
        in_d = service.actions_report(user, Filters(start=day, end=day), NOW).rows
        in_previous = service.actions_report(
            user, Filters(start=day - timedelta(days=1), end=day - timedelta(days=1)), NOW).rows
    assert in_d == [] and [r.kind for r in in_previous] == ["note"]


def test_page_shows_table_chart_and_links_to_the_actions(app, client, users, fixture):
    login_as(client, users["manager"])
    response = client.get("/crm/reports/actions", query_string=PERIOD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    table = html_table(html, "actions-report")
    assert table[0] == ["User", "Type", "Done", "Planned", "Overdue", "Total"]
    assert table[1:] == [
        ["Rep_A", "Call", "2", "0", "1", "3"], ["Rep_A", "E-mail", "0", "1", "0", "1"],
        ["Rep_A", "Meeting", "1", "0", "0", "1"], ["Rep_B", "Call", "1", "0", "0", "1"],
        ["Rep_B", "Visit", "0", "0", "2", "2"], ["Total", "", "4", "1", "3", "8"]]
    # The chart: one stacked bar per type, one segment per non-zero status.
    (svg,) = svgs(html)
    assert svg.get("role") == "img"
    assert len(by_class(svg, "g", "bar-group")) == 4  # call, e-mail, meeting, visit
    # Segments: call done + overdue, e-mail planned, meeting done, visit overdue.
    assert len(by_class(svg, "rect", "segment")) == 5
    # Each non-zero cell links to its actions; following the link lists exactly those.
    link = re.search(r'href="(/crm/reports/actions/list\?[^"]*status=overdue[^"]*)"', html)
    assert link
    url = link.group(1).replace("&amp;", "&")
    listing = client.get(url)
    assert listing.status_code == 200
    rows = html_table(listing.get_data(as_text=True), "action-list")[1:]
    assert len(rows) == 1 and rows[0][1] == "Call" and rows[0][2] == "Rep_A"
    assert rows[0][5] == "Overdue"


def test_drill_down_lists_the_cell_and_respects_scope(app, client, users, fixture):
    login_as(client, users["manager"])
    args = {**PERIOD, "user": users["rep_b"], "kind": "visit", "status": "overdue"}
    rows = html_table(client.get("/crm/reports/actions/list", query_string=args)
                      .get_data(as_text=True), "action-list")[1:]
    assert [(r[1], r[2], r[3], r[5]) for r in rows] == [("Visit", "Rep_B", "Conta B Ltda.",
                                                         "Overdue")] * 2
    # All of a status (the footer's links): the team's done actions only.
    args = {**PERIOD, "status": "done"}
    page = client.get("/crm/reports/actions/list", query_string=args).get_data(as_text=True)
    assert {r[2] for r in html_table(page, "action-list")[1:]} == {"Rep_A", "Rep_B"}
    assert len(html_table(page, "action-list")) - 1 == 4
    # Someone outside the team is not a choice: a clear 400, nothing listed.
    outside = client.get("/crm/reports/actions/list",
                         query_string={**PERIOD, "user": users["rep_c"]})
    assert outside.status_code == 400
    assert "Not a valid choice" in outside.get_data(as_text=True)
    assert client.get("/crm/reports/actions/list",
                      query_string={**PERIOD, "status": "bogus"}).status_code == 400


def test_csv_is_the_table(app, client, users, fixture):
    login_as(client, users["admin"])
    page = client.get("/crm/reports/actions", query_string=PERIOD).get_data(as_text=True)
    export = client.get("/crm/reports/actions", query_string={**PERIOD, "format": "csv"})
    same_figures(html_table(page, "actions-report"), csv_rows(export))
    assert len(csv_rows(export)) == 1 + 6 + 1  # header, rows, total


def test_bad_filters_are_explained_not_a_500(app, client, users, fixture):
    login_as(client, users["rep_a"])
    for args in ({"start": "31/02/2026"}, {"start": "2026-05-10", "end": "2026-05-01"},
                 {"kind": "dance"}, {"team": "999"}):
        response = client.get("/crm/reports/actions", query_string=args)
        assert response.status_code == 400, args
        assert 'class="alert alert-danger' in response.get_data(as_text=True)
    # pt-BR dates are read too.
    assert client.get("/crm/reports/actions",
                      query_string={"start": "01/01/2026", "end": "31/01/2026"}
                      ).status_code == 200


def test_empty_period_shows_an_empty_state(app, client, users, fixture):
    login_as(client, users["rep_a"])
    response = client.get("/crm/reports/actions",
                          query_string={"start": "2001-01-01", "end": "2001-01-31"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "No action in this period." in html
    assert "<svg" not in html


def test_permission_and_login(app, client, users):
    login_as(client, users["nobody"])
    for url in ("/crm/reports/actions", "/crm/reports/actions/list",
                "/crm/reports/actions?format=csv"):
        assert client.get(url).status_code == 403
    anonymous = app.test_client()
    response = anonymous.get("/crm/reports/actions")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_query_count_does_not_grow_with_the_rows(app, client, users, make_account):
    few = make_account(owner="rep_a", legal_name="Poucas Ltda.")
    add_actions(app, users, few, "rep_a", "call", done=1, overdue=1)
    login_as(client, users["admin"])
    urls = ["/crm/reports/actions?start={start}&end={end}".format(**PERIOD),
            "/crm/reports/actions?start={start}&end={end}&format=csv".format(**PERIOD),
            "/crm/reports/actions/list?start={start}&end={end}".format(**PERIOD)]
    small = [queries_for(app, client, url) for url in urls]
    for who in ("rep_a", "rep_b", "rep_c"):
        for kind in ("email", "visit", "task"):
            add_actions(app, users, few, who, kind, done=1, planned=1)
    assert [queries_for(app, client, url) for url in urls] == small


@pytest.mark.skipif(not hasattr(Action, "archived"), reason="actions cannot be archived here")
def test_archived_actions_are_left_out(app, users, fixture):
    with app.app_context():
        action = db.session.scalars(db.select(Action).where(
            Action.user_id == users["rep_b"], Action.kind == "visit")).first()
        action.archived = True
        db.session.commit()
    assert report_rows(app, users, "rep_b") == [("Rep_B", "call", 1, 0, 0),
                                                ("Rep_B", "visit", 0, 0, 1)]


def test_drill_down_tells_accounts_with_the_same_trade_name_apart(app, client, users,
                                                                   make_account):
    """Issue 17: "Silva Peças" twice read the same; the legal name follows the trade name."""
    for legal in ("Silva Comércio de Peças Ltda.", "J. Silva e Filhos ME"):
        add_actions(app, users, make_account(owner="rep_b", legal_name=legal,
                                             trade_name="Silva Peças"),
                    "rep_b", "visit", overdue=1)
    login_as(client, users["manager"])
    args = {**PERIOD, "user": users["rep_b"], "kind": "visit", "status": "overdue"}
    rows = html_table(client.get("/crm/reports/actions/list", query_string=args)
                      .get_data(as_text=True), "action-list")[1:]
    assert sorted(r[3] for r in rows) == ["Silva Peças — J. Silva e Filhos ME",
                                          "Silva Peças — Silva Comércio de Peças Ltda."]
