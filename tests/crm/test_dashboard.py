"""CRM's home-dashboard widgets: "My agenda" (overdue and today) and "My open opportunities
by stage" — their figures against a hand-built fixture, whose they are, and their links."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from erp.auth.models import User
from erp.clock import local_today
from erp.db import db
from modules.crm import dashboard
from modules.crm.models import Opportunity
from modules.crm.services import actions as action_service
from modules.crm.services import opportunities as opportunity_service
from modules.crm.services.bulk import bulk_apply
from tests.conftest import csrf_token, login_as

TODAY = date(2030, 6, 15)


def user(users, name="rep_a") -> User:
    return db.session.get(User, users[name])


def plan(app, users, account, at: str, *, who="rep_a", done="0", **data) -> int:
    """An action for ``who`` through the service; ``at`` is local time (São Paulo)."""
    with app.app_context():
        action = action_service.create_action(
            {"account_id": account, "kind": "call", "at": at, "done": done, "user_id": users[who],
             **data}, user=user(users, who))
        return action.id


def widget(html: str, key: str) -> str:
    start = html.index(f'data-widget="{key}"')
    return html[start:html.index("</section>", start)]


@pytest.fixture
def account(make_account):
    return make_account(legal_name="Mosaico Tecnologia Ltda.", trade_name="Mosaico")


# --- my agenda ------------------------------------------------------------------------------


def test_agenda_counts_overdue_and_today_of_the_user_only(app, users, account, make_account,
                                                          make_opportunity):
    theirs = make_account(owner="rep_b", legal_name="Conta do B Ltda.")
    opportunity = make_opportunity(account, title="ERP + NFS-e")
    oldest = plan(app, users, account, "2030-06-01T09:00", opportunity_id=opportunity)
    overdue = plan(app, users, account, "2030-06-14T23:59")  # yesterday, late
    today_early = plan(app, users, account, "2030-06-15T00:05")
    today_late = plan(app, users, account, "2030-06-15T23:30")  # 02:30 UTC the next day
    plan(app, users, account, "2030-06-16T00:00")  # tomorrow: not in the widget
    plan(app, users, account, "2030-06-10T10:00", done="1")  # done: not planned any more
    plan(app, users, theirs, "2030-06-12T10:00", who="rep_b")  # someone else's
    archived = plan(app, users, account, "2030-06-13T10:00")
    with app.app_context():
        from modules.crm.models import Action

        action_service.set_archived(db.session.get(Action, archived), True)  # not on the agenda
        summary = dashboard.agenda_summary(user(users), TODAY)
        assert (summary.overdue, summary.today, summary.total) == (2, 2, 4)
        assert [row.id for row in summary.first] == [oldest, overdue, today_early, today_late]
        assert [bool(row.overdue) for row in summary.first] == [True, True, False, False]
        first = summary.first[0]
        assert (first.account_name, first.opportunity_title) == ("Mosaico", "ERP + NFS-e")

        limited = dashboard.agenda_summary(user(users), TODAY, limit=3)
        assert limited.total == 4 and len(limited.first) == 3  # counts are not the list's

        other = dashboard.agenda_summary(user(users, "rep_b"), TODAY)
        assert (other.overdue, other.today) == (1, 0)
        # The manager sees rep_a's accounts, but "my agenda" is their own: empty.
        assert dashboard.agenda_summary(user(users, "manager"), TODAY).total == 0


def test_agenda_widget_on_the_home_page(app, client, users, account):
    with app.app_context(), app.test_request_context():
        today = local_today()
    yesterday = (today - timedelta(days=1)).isoformat()
    late = plan(app, users, account, f"{yesterday}T10:00")
    due = plan(app, users, account, f"{today.isoformat()}T23:00")
    login_as(client, users["rep_a"])
    html = widget(client.get("/").get_data(as_text=True), "crm.agenda")
    assert 'data-overdue="1"' in html and 'data-today="1"' in html
    assert re.findall(r'data-action-id="(\d+)"', html) == [str(late), str(due)]
    assert f'href="/crm/accounts/{account}"' in html and 'href="/crm/agenda"' in html
    assert html.count('action="/crm/actions/') == 2  # a rep may mark them done from here

    # "Done" from the dashboard comes back to it, and the action leaves the widget.
    token = csrf_token(client, "/")
    response = client.post(f"/crm/actions/{late}/done", data={"csrf_token": token, "next": "/"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    html = widget(client.get("/").get_data(as_text=True), "crm.agenda")
    assert 'data-overdue="0"' in html and re.findall(r'data-action-id="(\d+)"', html) == [
        str(due)]

    client = app.test_client()
    login_as(client, users["rep_b"])  # rep B does not see rep A's agenda
    html = widget(client.get("/").get_data(as_text=True), "crm.agenda")
    assert 'data-overdue="0"' in html and 'data-today="0"' in html
    assert "data-action-id" not in html and "Nothing overdue" in html


def test_finance_reads_its_agenda_without_done_buttons(app, client, users, account):
    with app.app_context(), app.test_request_context():
        today = local_today().isoformat()
    plan(app, users, account, f"{today}T12:00", who="finance")  # finance reads every account
    login_as(client, users["finance"])
    html = widget(client.get("/").get_data(as_text=True), "crm.agenda")
    assert 'data-today="1"' in html and "data-action-id" in html
    assert "/done" not in html  # no crm.write


# --- my open opportunities by stage ---------------------------------------------------------


@pytest.mark.parametrize("who", ["service", "finance"])
def test_no_pipeline_widget_for_who_owns_no_opportunity(app, client, users, who):
    """The service technician (Sérgio in the demo) and the finance clerk read accounts, yet
    "My open opportunities" meant nothing to them: only the pipeline's people see it (issue 17)."""
    login_as(client, users[who])
    page = client.get("/", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert 'data-widget="crm.pipeline"' not in page
    assert "Minhas oportunidades" not in page
    assert 'data-widget="crm.agenda"' in page  # their agenda stays


@pytest.mark.parametrize("who", ["rep_a", "manager"])
def test_pipeline_widget_for_the_sales_team(app, client, users, who):
    login_as(client, users[who])
    assert 'data-widget="crm.pipeline"' in client.get("/").get_data(as_text=True)



@pytest.fixture
def pipeline_fixture(app, users, account, make_account, make_opportunity, pipeline):
    """rep_a: two open in Prospecção (100 + 250,50), one in Negociação (1.000), one won, one
    lost, one archived; rep_b: one open in Prospecção. Returns the stage ids by name."""
    stages = pipeline["stages"]

    def items(value: str) -> list[dict]:
        return [{"description": "Item", "quantity": "1", "unit_price": value}]

    make_opportunity(account, items=items("100"))
    make_opportunity(account, items=items("250,50"))
    make_opportunity(account, stage_id=stages["Negociação"], items=items("1000"))
    won = make_opportunity(account, stage_id=stages["Proposta apresentada"], items=items("7"))
    lost = make_opportunity(account, stage_id=stages["Proposta apresentada"], items=items("9"))
    archived = make_opportunity(account, stage_id=stages["Negociação"], items=items("11"))
    theirs = make_account(owner="rep_b", legal_name="Conta do B Ltda.")
    make_opportunity(theirs, owner="rep_b", items=items("5000"))
    with app.app_context():
        rep = user(users)
        opportunity_service.mark_won(db.session.get(Opportunity, won), user=rep)
        opportunity_service.mark_lost(db.session.get(Opportunity, lost), user=rep,
                                      loss_reason_id=pipeline["reasons"]["Preço muito alto"])
        bulk_apply([str(archived)], "archive", user=rep)
        db.session.remove()
    return stages


def test_pipeline_figures_per_stage(app, users, pipeline_fixture):
    stages = pipeline_fixture
    with app.app_context():
        summary = dashboard.pipeline_summary(user(users))
        figures = [(s.name, s.count, s.value, s.share) for s in summary.stages]
        assert figures == [  # every stage, in funnel order, the empty ones too
            ("Prospecção", 2, Decimal("350.50"), 100),
            ("Contato realizado", 0, Decimal("0.00"), 0),
            ("Proposta apresentada", 0, Decimal("0.00"), 0),
            ("Negociação", 1, Decimal("1000.00"), 50),
            ("Encerrado", 0, Decimal("0.00"), 0),
        ]
        assert (summary.count, summary.value) == (3, Decimal("1350.50"))
        assert summary.stages[0].stage_id == stages["Prospecção"]

        theirs = dashboard.pipeline_summary(user(users, "rep_b"))
        assert (theirs.count, theirs.value) == (1, Decimal("5000.00"))
        # The manager sees the team's opportunities in the lists, but owns none of them.
        assert dashboard.pipeline_summary(user(users, "manager")).count == 0


def test_pipeline_widget_links_to_the_filtered_list(app, client, users, pipeline_fixture):
    stages = pipeline_fixture
    login_as(client, users["rep_a"])
    html = widget(client.get("/").get_data(as_text=True), "crm.pipeline")
    assert 'data-total="count">3<' in html
    rows = dict(re.findall(r'data-stage="(\d+)" data-count="(\d+)"', html))
    assert rows[str(stages["Prospecção"])] == "2" and rows[str(stages["Negociação"])] == "1"
    link = re.search(rf'href="(/crm/opportunities\?[^"]*stage={stages["Prospecção"]}[^"]*)"',
                     html).group(1).replace("&amp;", "&")
    assert f"owner={users['rep_a']}" in link and "status=open" in link
    listed = client.get(link).get_data(as_text=True)
    # The list behind the link holds exactly the opportunities the widget counted.
    assert len(re.findall(r'name="ids" value="\d+"', listed)) == 2

    client = app.test_client()
    login_as(client, users["rep_c"])  # another rep with nothing: the widget's empty state
    html = widget(client.get("/").get_data(as_text=True), "crm.pipeline")
    assert 'data-count="0"' in html and "You have no open opportunities." in html


def test_each_widget_costs_two_queries(app, users, account, pipeline_fixture):
    for day in range(1, 9):
        plan(app, users, account, f"2030-06-{day:02d}T10:00")
    with app.app_context(), app.test_request_context():
        rep = user(users)
        statements = []

        def listen(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            agenda = dashboard.agenda_summary(rep, TODAY)
            assert (agenda.overdue, len(agenda.first)) == (8, dashboard.AGENDA_SHOWN)
            assert len(statements) == 2
            dashboard.pipeline_summary(rep)
            assert len(statements) == 3
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
