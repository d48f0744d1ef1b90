"""CRM actions: record and plan them, the agenda, mark done, e-mail from the CRM."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from erp.auth.models import User
from erp.clock import user_timezone
from erp.db import db
from erp.errors import InvalidInput
from erp.mail import OutboxMessage
from modules.crm.models import ACTION_KINDS, Action, Opportunity, Stage
from modules.crm.services import actions as service
from modules.crm.services import emails
from tests.conftest import csrf_token, login_as

TODAY = date(2030, 6, 15)  # a fixed "today" for the agenda


def user(users, name="rep_a") -> User:
    return db.session.get(User, users[name])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def action_count(app) -> int:
    with app.app_context():
        return count(Action)


@pytest.fixture
def account(make_account):
    return make_account(legal_name="Mosaico Tecnologia Ltda.")


@pytest.fixture
def stage(app):
    with app.app_context():
        prospecting = Stage(name="Prospecção", sequence=10)
        db.session.add(prospecting)
        db.session.commit()
        stage_id = prospecting.id
        db.session.remove()
    return stage_id


@pytest.fixture
def make_opp(app, users, stage):
    """An opportunity made with the model directly; returns its id."""

    def factory(account_id: int, owner: str = "rep_a", **fields):
        with app.app_context():
            fields.setdefault("title", "ERP + NFS-e")
            opportunity = Opportunity(account_id=account_id, stage_id=stage,
                                      owner_id=users[owner], **fields)
            db.session.add(opportunity)
            db.session.commit()
            opportunity_id = opportunity.id
            db.session.remove()
        return opportunity_id

    return factory


@pytest.fixture
def outbox():
    """The e-mails queued in the outbox, as (to, subject, body, reply_to, source)."""

    def read() -> list[tuple]:
        return [(m.to, m.subject, m.body_text, m.reply_to, m.source)
                for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]

    return read


# --- creating actions (service) -------------------------------------------------------


@pytest.mark.parametrize("kind", ACTION_KINDS)
def test_create_each_kind(app, users, account, kind):
    with app.app_context():
        before = datetime.now(UTC).replace(microsecond=0)
        action = service.create_action({"account_id": account, "kind": kind,
                                        "description": "  Falamos sobre o ERP.  "},
                                       user=user(users))
        db.session.expire_all()
        action = db.session.get(Action, action.id)
        assert action.kind == kind
        assert action.account_id == account
        assert action.user_id == users["rep_a"]
        assert action.description == "Falamos sobre o ERP."
        assert action.done is True  # no time given: now, so it was done
        assert before <= utc(action.at) <= datetime.now(UTC)


def _local(app, text: str) -> datetime:
    """A datetime-local value read in the default time zone (America/Sao_Paulo), in UTC."""
    with app.app_context():
        return service.parse_moment(text)[0]


def test_done_or_planned_follows_the_time_unless_said(app, users, account):
    with app.app_context():
        rep = user(users)
        tz_now = datetime.now(UTC).astimezone(user_timezone())
        future = (tz_now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
        past = (tz_now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
        today = tz_now.date()

        def make(**data):
            return service.create_action({"account_id": account, "kind": "call", **data},
                                         user=rep)

        assert make(at=future).done is False
        assert make(at=past).done is True
        assert make(at=future, done="1").done is True
        assert make(at=past, done="0").done is False
        assert make(at=today.isoformat()).done is False  # a plan for today
        assert make(at=(today - timedelta(days=1)).strftime("%d/%m/%Y")).done is True
        assert make(at=today + timedelta(days=1)).done is False  # a date object


def test_datetime_local_is_read_in_the_users_time_zone(app, users, account):
    with app.app_context():
        for text in ("2026-12-31T14:30", "31/12/2026 14:30", "2026-12-31 14:30"):
            action = service.create_action({"account_id": account, "kind": "visit",
                                            "at": text}, user=user(users))
            db.session.expire_all()
            # São Paulo is UTC-3 (no daylight saving since 2019).
            assert utc(db.session.get(Action, action.id).at) == datetime(2026, 12, 31, 17, 30,
                                                                         tzinfo=UTC)
        aware = service.create_action({"account_id": account, "kind": "visit",
                                       "at": datetime(2026, 1, 2, 10, 0, tzinfo=UTC)},
                                      user=user(users))
        assert utc(aware.at) == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)


def test_the_opportunity_gives_its_account(app, users, account, make_opp):
    opportunity_id = make_opp(account)
    with app.app_context():
        action = service.create_action({"opportunity_id": opportunity_id, "kind": "proposal",
                                        "at": "2030-01-10T09:00"}, user=user(users))
        assert (action.account_id, action.opportunity_id) == (account, opportunity_id)
        assert action.done is False


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "dance"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"kind": "call", "at": "31/02/2026 10:00"}, "at"),
        ({"kind": "call", "at": "amanhã"}, "at"),
        ({"kind": "call", "at": "0001-01-01T00:00"}, "at"),
        ({"kind": "call", "description": "x" * 20001}, "description"),
        ({"kind": "call", "contact_id": "999999"}, "contact_id"),
        ({"kind": "call", "opportunity_id": "999999"}, "opportunity_id"),
        ({"kind": "call", "user_id": "999999"}, "user_id"),
        ({"kind": "call", "color": "blue"}, "color"),
    ],
)
def test_bad_input_is_refused_per_field(app, users, account, data, field):
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            service.create_action({"account_id": account, **data}, user=user(users))
        assert field in error.value.errors
        db.session.rollback()
        assert count(Action) == 0


def test_contact_and_opportunity_must_belong_to_the_account(app, users, make_account,
                                                            make_contact, make_opp):
    mine = make_account(legal_name="Conta Um Ltda.")
    other = make_account(legal_name="Conta Dois Ltda.")
    linked = make_contact(account_id=mine, name="Ana Souza")
    elsewhere = make_contact(account_id=other, name="Bruno Lima")
    other_opportunity = make_opp(other)
    with app.app_context():
        rep = user(users)
        ok = service.create_action({"account_id": mine, "kind": "call", "contact_id": linked},
                                   user=rep)
        assert ok.contact_id == linked
        with pytest.raises(InvalidInput) as error:
            service.create_action({"account_id": mine, "kind": "call", "contact_id": elsewhere,
                                   "opportunity_id": other_opportunity}, user=rep)
        assert set(error.value.errors) == {"contact_id", "opportunity_id"}
        db.session.rollback()
        assert count(Action) == 1


def test_scope_of_accounts_opportunities_and_users(app, users, make_account, make_opp):
    theirs = make_account(owner="rep_b", legal_name="Conta do B Ltda.")
    their_opportunity = make_opp(theirs, owner="rep_b")
    mine = make_account(legal_name="Conta do A Ltda.")
    with app.app_context():
        rep_a = user(users)
        for data, field in (({"account_id": theirs}, "account_id"),
                            ({"opportunity_id": their_opportunity}, "opportunity_id"),
                            ({"account_id": mine, "user_id": users["rep_b"]}, "user_id")):
            with pytest.raises(InvalidInput) as error:
                service.create_action({"kind": "call", **data}, user=rep_a)
            assert field in error.value.errors
            db.session.rollback()
        manager = user(users, "manager")
        # The manager sees the team: may plan an action for rep_a on rep_a's account...
        planned = service.create_action({"account_id": mine, "kind": "call",
                                         "user_id": users["rep_a"]}, user=manager)
        assert planned.user_id == users["rep_a"]
        # ...but not for rep_b, who cannot see that account.
        with pytest.raises(InvalidInput) as error:
            service.create_action({"account_id": mine, "kind": "call",
                                   "user_id": users["rep_b"]}, user=manager)
        assert "user_id" in error.value.errors


def test_update_action(app, users, account, make_contact):
    contact_id = make_contact(account_id=account, name="Ana Souza")
    with app.app_context():
        rep = user(users)
        action = service.create_action({"account_id": account, "kind": "call",
                                        "at": "2030-01-10T09:00"}, user=rep)
        service.update_action(action, {"kind": "meeting", "contact_id": contact_id,
                                       "description": "Reunião"}, user=rep)
        db.session.expire_all()
        action = db.session.get(Action, action.id)
        assert (action.kind, action.contact_id, action.description, action.done) == (
            "meeting", contact_id, "Reunião", False)
        with pytest.raises(InvalidInput):
            service.update_action(action, {"kind": "dance"}, user=rep)


# --- the form -------------------------------------------------------------------------


def test_new_action_with_only_the_opportunity(app, client, users, account, make_opp,
                                              make_contact):
    """Seed 001: after saving an opportunity, the user lands here to record its first action."""
    contact_id = make_contact(account_id=account, name="Ana Souza")
    opportunity_id = make_opp(account, title="Bimer + ISS-Easy", contact_id=contact_id)
    login_as(client, users["rep_a"])
    url = f"/crm/actions/new?opportunity_id={opportunity_id}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bimer + ISS-Easy" in html and "Mosaico Tecnologia Ltda." in html
    assert f'<option selected value="{opportunity_id}">' in html
    assert f'<option selected value="{contact_id}">' in html
    assert 'type="datetime-local"' in html
    response = client.post("/crm/actions/new", data={
        "csrf_token": csrf_token(client, url), "account_id": str(account),
        "opportunity_id": str(opportunity_id), "kind": "call", "at": "2020-05-04T10:00",
        "done": "", "contact_id": str(contact_id), "user_id": str(users["rep_a"]),
        "description": "Cliente pediu uma demonstração."})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/crm/opportunities/{opportunity_id}")
    with app.app_context():
        action = db.session.scalars(select(Action)).one()
        assert (action.account_id, action.opportunity_id, action.contact_id, action.done) == (
            account, opportunity_id, contact_id, True)


def test_new_action_on_the_account_goes_back_to_it(app, client, users, account):
    login_as(client, users["rep_a"])
    url = f"/crm/actions/new?account_id={account}"
    assert client.get(url).status_code == 200
    response = client.post("/crm/actions/new", data={
        "csrf_token": csrf_token(client, url), "account_id": str(account), "kind": "task",
        "at": "2099-01-10T09:00", "description": "Enviar contrato"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/crm/accounts/{account}")
    with app.app_context():
        action = db.session.scalars(select(Action)).one()
        assert (action.kind, action.done, action.user_id) == ("task", False, users["rep_a"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "dance"}, "Choose the kind of action"),
        ({"contact_id": "CONTACT_ELSEWHERE"}, "Choose one of the account"),
        ({"opportunity_id": "OTHER_OPPORTUNITY"}, "Choose an opportunity of this account"),
        ({"at": "31/02/2026 10:00"}, "Use a date and time such as"),
    ],
)
def test_bad_input_through_the_form(app, client, users, make_account, make_contact, make_opp,
                                    change, message):
    mine = make_account(legal_name="Conta Um Ltda.")
    other = make_account(legal_name="Conta Dois Ltda.")
    ids = {"CONTACT_ELSEWHERE": str(make_contact(account_id=other, name="Bruno Lima")),
           "OTHER_OPPORTUNITY": str(make_opp(other))}
    login_as(client, users["rep_a"])
    url = f"/crm/actions/new?account_id={mine}"
    data = {"csrf_token": csrf_token(client, url), "account_id": str(mine), "kind": "call",
            "at": "2020-05-04T10:00", "description": "Parecer importante"}
    data.update({key: ids.get(value, value) for key, value in change.items()})
    response = client.post("/crm/actions/new", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html.replace("&#39;", "'").replace("&#x27;", "'")
    assert "Parecer importante" in html  # nothing typed is lost
    assert action_count(app) == 0


def test_rep_cannot_add_an_action_to_another_reps_account(app, client, users, make_account,
                                                          make_opp):
    theirs = make_account(owner="rep_b", legal_name="Conta do B Ltda.")
    their_opportunity = make_opp(theirs, owner="rep_b")
    mine = make_account(legal_name="Conta do A Ltda.")
    login_as(client, users["rep_a"])
    assert client.get(f"/crm/actions/new?account_id={theirs}").status_code == 404
    assert client.get(f"/crm/actions/new?opportunity_id={their_opportunity}").status_code == 404
    token = csrf_token(client, f"/crm/actions/new?account_id={mine}")
    response = client.post("/crm/actions/new", data={
        "csrf_token": token, "account_id": str(theirs), "kind": "call"})
    assert response.status_code == 404
    assert action_count(app) == 0


def test_finance_reads_but_cannot_write_actions(app, client, users, account):
    with app.app_context():
        action_id = service.create_action({"account_id": account, "kind": "call",
                                           "at": "2099-01-10T09:00"}, user=user(users)).id
    login_as(client, users["finance"])
    assert client.get(f"/crm/actions/new?account_id={account}").status_code == 403
    assert client.get(f"/crm/accounts/{account}/email").status_code == 403
    token = csrf_token(client, "/auth/preferences")
    assert client.post("/crm/actions/new", data={
        "csrf_token": token, "account_id": str(account), "kind": "call"}).status_code == 403
    assert client.post(f"/crm/actions/{action_id}/done",
                       data={"csrf_token": token}).status_code == 403
    page = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    assert "account-new-action" not in page and "account-send-email" not in page
    assert action_count(app) == 1


def test_account_page_links_to_new_action_and_email(client, users, account):
    login_as(client, users["rep_a"])
    page = client.get(f"/crm/accounts/{account}").get_data(as_text=True)
    assert f"/crm/actions/new?account_id={account}" in page
    assert f"/crm/accounts/{account}/email" in page


# --- completing -----------------------------------------------------------------------


def test_complete_action(app, users, account):
    with app.app_context():
        rep = user(users)
        action = service.create_action({"account_id": account, "kind": "call",
                                        "at": "2099-01-10T09:00"}, user=rep)
        assert action.done is False
        service.complete_action(action, user=rep)
        db.session.expire_all()
        action = db.session.get(Action, action.id)
        assert action.done is True
        assert utc(action.at) <= datetime.now(UTC)  # when it was actually done


def test_complete_through_the_agenda_button(app, client, users, account, make_account):
    theirs = make_account(owner="rep_b", legal_name="Conta do B Ltda.")
    with app.app_context():
        mine = service.create_action({"account_id": account, "kind": "call",
                                      "at": "2099-01-10T09:00"}, user=user(users)).id
        other = service.create_action({"account_id": theirs, "kind": "call",
                                       "at": "2099-01-10T09:00"},
                                      user=user(users, "rep_b")).id
    login_as(client, users["rep_a"])
    token = csrf_token(client, f"/crm/actions/new?account_id={account}")
    response = client.post(f"/crm/actions/{mine}/done",
                           data={"csrf_token": token, "next": "/crm/agenda"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/crm/agenda")
    # Not a safe place to go back to: the account instead.
    response = client.post(f"/crm/actions/{mine}/done",
                           data={"csrf_token": token, "next": "https://evil.example/"})
    assert response.headers["Location"].endswith(f"/crm/accounts/{account}")
    # Another rep's action: not found.
    assert client.post(f"/crm/actions/{other}/done",
                       data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(Action, mine).done is True
        assert db.session.get(Action, other).done is False


# --- the agenda -----------------------------------------------------------------------


def _plan(app, users, account, at: str, *, who="rep_a", done="0", **data) -> int:
    with app.app_context():
        action = service.create_action({"account_id": account, "kind": "call", "at": at,
                                        "done": done, **data}, user=user(users, who))
        return action.id


def test_agenda_buckets(app, users, account, make_account):
    theirs = make_account(owner="rep_b", legal_name="Conta do B Ltda.")
    overdue = _plan(app, users, account, "2030-06-10T10:00")
    _plan(app, users, account, "2030-06-09T10:00", done="1")  # done: not in the agenda
    today_late = _plan(app, users, account, "2030-06-15T23:30")  # 02:30 UTC the next day
    today_early = _plan(app, users, account, "2030-06-15T00:10")
    upcoming = _plan(app, users, account, "2030-06-29T18:00")  # 14 days on
    _plan(app, users, account, "2030-06-30T09:00")  # beyond the two weeks
    _plan(app, users, theirs, "2030-06-15T10:00", who="rep_b")  # someone else's
    with app.app_context():
        agenda = service.agenda(user(users), TODAY)
        assert [a.id for a in agenda.overdue] == [overdue]
        assert [a.id for a in agenda.today] == [today_early, today_late]
        assert [a.id for a in agenda.upcoming] == [upcoming]
        assert agenda.day == TODAY
        other = service.agenda(user(users, "rep_b"), TODAY)
        assert len(other.today) == 1 and not other.overdue and not other.upcoming


def test_next_and_internal_contacts(app, users, account, make_opp):
    day = timedelta(days=1)
    late = make_opp(account, title="Atrasada", next_contact_user_id=users["rep_a"],
                    next_contact_on=TODAY - 2 * day)
    soon = make_opp(account, title="Em breve", next_contact_user_id=users["rep_a"],
                    next_contact_on=TODAY + 3 * day, internal_contact_user_id=users["manager"],
                    internal_contact_on=TODAY + day)
    make_opp(account, title="Longe", next_contact_user_id=users["rep_a"],
             next_contact_on=TODAY + 30 * day)
    make_opp(account, title="Ganha", status="won", next_contact_user_id=users["rep_a"],
             next_contact_on=TODAY)
    make_opp(account, title="Arquivada", archived=True, next_contact_user_id=users["rep_a"],
             next_contact_on=TODAY)
    with app.app_context():
        agenda = service.agenda(user(users), TODAY)
        assert [(c.opportunity.id, c.overdue) for c in agenda.next_contacts] == [
            (late, True), (soon, False)]
        assert agenda.internal_contacts == []
        supervisor = service.agenda(user(users, "manager"), TODAY)
        assert [(c.opportunity.id, c.on) for c in supervisor.internal_contacts] == [
            (soon, TODAY + day)]
        assert supervisor.next_contacts == []


def test_agenda_is_a_handful_of_queries(app, users, account, make_opp, make_contact):
    contact_id = make_contact(account_id=account, name="Ana Souza")
    opportunity_id = make_opp(account, next_contact_user_id=users["rep_a"],
                              next_contact_on=TODAY)
    for day in range(1, 13):
        _plan(app, users, account, f"2030-06-{day:02d}T10:00", contact_id=contact_id,
              opportunity_id=opportunity_id)
    with app.app_context():
        rep = user(users)
        statements = []

        def listen(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            agenda = service.agenda(rep, TODAY)
            for action in agenda.overdue + agenda.today:
                assert action.account.display_name and action.opportunity.title
                assert action.contact.name == "Ana Souza"
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert len(agenda.overdue) == 12
        assert len(statements) == 5  # overdue, today, upcoming, next and internal contacts


def test_agenda_limits_each_list(app, users, account):
    for day in range(1, 6):
        _plan(app, users, account, f"2030-06-{day:02d}T10:00")
    with app.app_context():
        agenda = service.agenda(user(users), TODAY, limit=3)
        assert len(agenda.overdue) == 3


def _plan_many(app, users, account, moments, *, who="rep_a") -> list[int]:
    """Planned actions at ``moments`` (aware datetimes), written straight to the table."""
    with app.app_context():
        actions = [Action(account_id=account, kind="call", at=moment, user_id=users[who],
                          done=False) for moment in moments]
        db.session.add_all(actions)
        db.session.commit()
        return [action.id for action in actions]


def test_agenda_shows_the_first_of_a_long_section_and_counts_it(app, users, account):
    start = datetime(2030, 6, 1, 13, tzinfo=UTC)
    overdue = _plan_many(app, users, account,
                         [start + timedelta(hours=i) for i in range(service.AGENDA_LIMIT + 5)])
    with app.app_context():
        rep = user(users)
        statements = []

        def listen(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            agenda = service.agenda(rep, TODAY)
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert [a.id for a in agenda.overdue] == overdue[:service.AGENDA_LIMIT]
        assert agenda.count("overdue") == len(overdue) and agenda.more("overdue")
        assert agenda.count("today") == 0 and not agenda.more("today")
        # the five lists, and a count for the one section that holds more than it shows
        assert len(statements) == 6


def test_agenda_section_pages_through_all_of_it(app, client, users, account, make_account):
    app.config["ERP_PAGE_SIZE"] = 10
    now = datetime.now(UTC).replace(microsecond=0)
    overdue = _plan_many(app, users, account,
                         [now - timedelta(days=3, minutes=i) for i in range(30, 0, -1)])
    upcoming = _plan_many(app, users, account, [now + timedelta(days=3, minutes=i)
                                                for i in range(3)])
    theirs = make_account(owner="rep_b", legal_name="Conta do B Ltda.")
    _plan_many(app, users, theirs, [now - timedelta(days=3)], who="rep_b")
    login_as(client, users["rep_a"])
    html = client.get("/crm/agenda").get_data(as_text=True)
    assert '/crm/agenda/overdue"' in html and "See all 30" in html
    assert "/crm/agenda/upcoming" not in html  # all three shown: no link
    seen, url = [], "/crm/agenda/overdue"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        seen += [int(n) for n in re.findall(r'data-action-id="(\d+)"', text)]
        found = re.search(r'href="([^"]+)" rel="next"', text)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == overdue  # every one, once, first due first; not rep_b's
    assert "30 records" in text
    page = client.get("/crm/agenda/upcoming").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'data-action-id="(\d+)"', page)] == upcoming
    assert client.get("/crm/agenda/someday").status_code == 404


def test_agenda_page(app, client, users, account, make_opp):
    opportunity_id = make_opp(account, title="Bimer + ISS-Easy",
                              next_contact_user_id=users["rep_a"],
                              next_contact_on=date.today() - timedelta(days=1))
    with app.app_context():
        planned = service.create_action({"account_id": account, "kind": "visit",
                                         "opportunity_id": opportunity_id,
                                         "at": date.today() + timedelta(days=2),
                                         "description": "Demonstração"}, user=user(users)).id
    login_as(client, users["rep_a"])
    page = client.get("/crm/agenda")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for heading in ("Overdue", "Today", "Upcoming", "Next contacts", "As internal contact"):
        assert heading in html
    assert f"/crm/actions/{planned}/done" in html
    assert "Demonstração" in html and "Bimer + ISS-Easy" in html
    assert f"/crm/opportunities/{opportunity_id}" in html
    assert "Nothing overdue." in html
    # Finance reads the CRM: an agenda, with no "done" buttons.
    login_as(client, users["finance"])
    page = client.get("/crm/agenda")
    assert page.status_code == 200 and "Nothing planned." in page.get_data(as_text=True)


# --- e-mail ---------------------------------------------------------------------------


@pytest.fixture
def email_account(make_account, make_contact):
    account_id = make_account(legal_name="Mosaico Tecnologia Ltda.",
                              email="contato@mosaico.com.br")
    ana = make_contact(account_id=account_id, role="Compras", name="Ana Souza",
                       email="ana@mosaico.com.br")
    make_contact(account_id=account_id, name="Sem E-mail")
    return {"account": account_id, "ana": ana}


def test_send_email_queues_and_logs_in_one_go(app, users, email_account, outbox):
    with app.app_context():
        account = db.session.get(service.Account, email_account["account"])
        action = emails.send_email(account, user=user(users),
                                   to=["ANA@mosaico.com.br", "contato@mosaico.com.br"],
                                   subject="Proposta ERP", body="Segue a proposta.")
        db.session.expire_all()
        action = db.session.get(Action, action.id)
        assert (action.kind, action.done, action.email_subject, action.description) == (
            "email", True, "Proposta ERP", "Segue a proposta.")
        assert action.email_to == "ana@mosaico.com.br, contato@mosaico.com.br"
        assert outbox() == [(["ana@mosaico.com.br", "contato@mosaico.com.br"], "Proposta ERP",
                             "Segue a proposta.", "rep_a@example.com", "crm.email")]


def test_one_recipient_is_the_contact_of_the_action(app, users, email_account, outbox):
    with app.app_context():
        account = db.session.get(service.Account, email_account["account"])
        action = emails.send_email(account, user=user(users), to="ana@mosaico.com.br",
                                   subject="Oi", body="Tudo bem?")
        assert action.contact_id == email_account["ana"]


@pytest.mark.parametrize(
    ("to", "subject", "body", "field"),
    [
        (["intruso@example.com"], "Oi", "Corpo", "to"),
        (["ana@mosaico.com.br", "intruso@example.com"], "Oi", "Corpo", "to"),
        ([], "Oi", "Corpo", "to"),
        (["ana@mosaico.com.br"], "", "Corpo", "subject"),
        (["ana@mosaico.com.br"], "Oi\r\nBcc: x@example.com", "Corpo", "subject"),
        (["ana@mosaico.com.br"], "Oi", "   ", "body"),
    ],
)
def test_send_email_refuses_bad_input(app, users, email_account, outbox, to, subject, body,
                                      field):
    with app.app_context():
        account = db.session.get(service.Account, email_account["account"])
        with pytest.raises(InvalidInput) as error:
            emails.send_email(account, user=user(users), to=to, subject=subject, body=body)
        assert field in error.value.errors
        db.session.rollback()
        assert count(Action) == 0
        assert outbox() == []


def test_send_email_is_all_or_nothing(app, users, email_account, outbox, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(emails, "_single_contact", broken)  # after the mail was queued
    with app.app_context():
        account = db.session.get(service.Account, email_account["account"])
        with pytest.raises(RuntimeError):
            emails.send_email(account, user=user(users), to=["ana@mosaico.com.br"],
                              subject="Oi", body="Corpo")
    with app.app_context():
        assert count(Action) == 0
        assert outbox() == []  # the queued mail went with the failed action


def test_email_page_and_send(app, client, users, email_account, make_opp, outbox):
    account = email_account["account"]
    opportunity_id = make_opp(account, title="Bimer + ISS-Easy", contact_id=email_account["ana"])
    login_as(client, users["rep_a"])
    url = f"/crm/accounts/{account}/email?opportunity_id={opportunity_id}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ana Souza (Compras) &lt;ana@mosaico.com.br&gt;" in html
    assert "contato@mosaico.com.br" in html and "Sem E-mail" not in html
    assert 'value="Bimer + ISS-Easy"' in html  # the subject, from the opportunity
    # The opportunity's contact person is ticked; the account's own address is not.
    assert 'checked class="form-check-input" id="to-0" name="to" type="checkbox" ' \
           'value="ana@mosaico.com.br"' in html
    assert 'id="to-1" name="to" type="checkbox" value="contato@mosaico.com.br"' in html
    response = client.post(f"/crm/accounts/{account}/email", data={
        "csrf_token": csrf_token(client, url), "opportunity_id": str(opportunity_id),
        "to": ["ana@mosaico.com.br"], "subject": "Proposta", "body": "Segue."},
        follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/crm/opportunities/{opportunity_id}")
    with client.session_transaction() as session:
        assert any("E-mail queued" in message for _c, message in session["_flashes"])
    with app.app_context():
        action = db.session.scalars(select(Action)).one()
        assert (action.kind, action.opportunity_id, action.email_to) == (
            "email", opportunity_id, "ana@mosaico.com.br")
        assert [to for to, *_rest in outbox()] == [["ana@mosaico.com.br"]]


def test_email_page_refuses_a_stranger(app, client, users, email_account, outbox):
    account = email_account["account"]
    login_as(client, users["rep_a"])
    url = f"/crm/accounts/{account}/email"
    response = client.post(url, data={
        "csrf_token": csrf_token(client, url), "to": ["intruso@example.com"],
        "subject": "Oi", "body": "Texto que não se perde"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "intruso@example.com is not the e-mail of one of this account" in html
    assert "Texto que não se perde" in html
    assert action_count(app) == 0
    with app.app_context():
        assert outbox() == []


def test_email_scope(app, client, users, make_account, make_opp, email_account):
    theirs = make_account(owner="rep_b", legal_name="Conta do B Ltda.")
    other_opportunity = make_opp(theirs, owner="rep_b")
    login_as(client, users["rep_a"])
    assert client.get(f"/crm/accounts/{theirs}/email").status_code == 404
    mine_with_their_opportunity = (f"/crm/accounts/{email_account['account']}/email"
                                   f"?opportunity_id={other_opportunity}")
    assert client.get(mine_with_their_opportunity).status_code == 404
