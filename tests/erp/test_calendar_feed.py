"""Each user's private calendar feed (erp/calendar_feed.py, issue 18 point 5): made,
shown once, replaced and revoked in Preferences (CSRF, login), read without a login by its
token, parsed back with the ``icalendar`` library: CRM's planned actions at their time in
the user's zone (TZID + VTIMEZONE), next and internal contacts as all-day events, stable
UIDs, user text escaped; a revoked or unknown token is a 404; a token shows its user's
items only, within their record scope and the feed's window."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from erp.auth.models import User
from erp.clock import local_today, localize
from erp.db import db
from tests.conftest import csrf_token

SETTINGS = "/auth/calendar"
URL_RE = re.compile(r'value="(https?://[^"]+/calendar/([A-Za-z0-9_-]+)\.ics)"')
SAO_PAULO = "America/Sao_Paulo"


def new_feed(client) -> str:
    """Create (or replace) the client's user's feed; returns the feed's path."""
    answer = client.post(f"{SETTINGS}/new", data={"csrf_token": csrf_token(client, SETTINGS)})
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    match = URL_RE.search(answer.get_data(as_text=True))
    assert match, "the page shows the feed's URL"
    return f"/calendar/{match.group(2)}.ics"


def read(client, path: str) -> Calendar:
    answer = client.get(path)
    assert answer.status_code == 200, answer.status_code
    assert answer.mimetype == "text/calendar"
    return Calendar.from_ical(answer.get_data())


def events(calendar: Calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def agenda(app, users, make_account):
    """CRM records for rep_a (and one for rep_b): planned actions inside and outside the
    window, a done and an archived one, opportunities rep_a is the next or internal
    contact of, one of them on another team's account. Returns their ids."""
    from modules.crm.models import Action, Opportunity, Stage
    from modules.crm.services.settings import ensure_defaults

    own = make_account("rep_a", legal_name="Cliente da Ana Ltda.")
    other_team = make_account("rep_c", legal_name="Conta de Outro Time Ltda.")
    with app.app_context():
        ensure_defaults()
        rep_a = db.session.get(User, users["rep_a"])
        today = local_today(rep_a)
        stage = db.session.scalars(db.select(Stage).order_by(Stage.sequence)).first()

        def at(days: int, hour: int = 14, minute: int = 30) -> datetime:
            return localize(datetime.combine(today + timedelta(days=days), time(hour, minute)),
                            ZoneInfo(SAO_PAULO)).astimezone(UTC)

        def action(days, user="rep_a", **values):
            values.setdefault("done", False)
            row = Action(account_id=own, kind=values.pop("kind", "meeting"), at=at(days),
                         user_id=users[user], **values)
            db.session.add(row)
            return row

        planned = action(2, description="Levar proposta, revisar; ligar\ndepois")
        overdue = action(-3, kind="call", description="Retornar ligação")
        too_old = action(-60)
        too_far = action(200)
        done = action(1, done=True)
        archived = action(1, archived=True)
        of_rep_b = action(3, user="rep_b")

        def opportunity(account_id, title, **values):
            row = Opportunity(title=title, account_id=account_id, stage_id=stage.id,
                              owner_id=users["rep_a"] if account_id == own else users["rep_c"],
                              **values)
            db.session.add(row)
            return row

        next_contact = opportunity(own, "Renovação, anual", next_contact_user_id=users["rep_a"],
                                   next_contact_on=today + timedelta(days=5))
        internal = opportunity(own, "Expansão", internal_contact_user_id=users["rep_a"],
                               internal_contact_on=today + timedelta(days=7))
        out_of_scope = opportunity(other_team, "Segredo do outro time",
                                   next_contact_user_id=users["rep_a"],
                                   next_contact_on=today + timedelta(days=5))
        db.session.commit()
        ids = {name: row.id for name, row in locals().items()
               if isinstance(row, Action | Opportunity)}
        db.session.remove()
    return ids


def test_the_feed_holds_the_users_agenda_in_their_time_zone(app, client_as, client, agenda):
    rep = client_as("rep_a")
    path = new_feed(rep)
    calendar = read(client, path)  # no login: the token is the key
    assert str(calendar["VERSION"]) == "2.0" and "PRODID" in calendar
    found = events(calendar)
    host = domain(app)
    planned = found[f"crm.action.{agenda['planned']}@{host}"]
    start = planned.decoded("DTSTART")
    assert planned["DTSTART"].params["TZID"] == SAO_PAULO
    assert (start.hour, start.minute) == (14, 30)
    assert start.tzinfo is not None and str(start.tzinfo) == SAO_PAULO
    assert planned.decoded("DTEND") - start == timedelta(minutes=30)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [SAO_PAULO]
    assert str(planned["SUMMARY"]) == "Meeting: Cliente da Ana Ltda."
    # User text survives the trip: commas, semicolons and line breaks escaped, then back.
    assert str(planned["DESCRIPTION"]).startswith("Levar proposta, revisar; ligar\ndepois")
    raw = client.get(path).get_data(as_text=True)
    assert "Levar proposta\\, revisar\\; ligar\\ndepois" in raw

    next_contact = found[f"crm.next_contact.{agenda['next_contact']}@{host}"]
    assert next_contact.decoded("DTSTART") == local_today_of(app, "rep_a") + timedelta(days=5)
    assert "Renovação, anual" in str(next_contact["SUMMARY"])
    assert f"crm.internal_contact.{agenda['internal']}@{host}" in found
    assert f"crm.action.{agenda['overdue']}@{host}" in found  # 3 days ago: in the window

    left_out = {f"crm.action.{agenda[name]}@{host}"
                for name in ("too_old", "too_far", "done", "archived", "of_rep_b")}
    left_out.add(f"crm.next_contact.{agenda['out_of_scope']}@{host}")
    assert not left_out & set(found), "outside the window, done, archived, others' or " \
                                      "out of scope"
    assert len(found) == 4


def domain(app) -> str:
    """The UIDs' domain: the host of ERP_BASE_URL, whatever address the feed is read at."""
    from erp.calendar_feed import uid_domain

    with app.app_context():
        return uid_domain()


def local_today_of(app, name):
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == name))
        return local_today(user)


def test_uids_are_stable_and_times_follow_the_users_zone(app, users, client_as, client,
                                                         agenda):
    rep = client_as("rep_a")
    path = new_feed(rep)
    first = events(read(client, path))
    second = events(Calendar.from_ical(client.get(
        path, base_url="https://erp.example.com").get_data()))  # another address
    assert set(first) == set(second) and len(first) == 4
    with app.app_context():
        db.session.get(User, users["rep_a"]).timezone = "America/Manaus"  # an hour behind
        db.session.commit()
    planned = events(read(client, path))[f"crm.action.{agenda['planned']}@{domain(app)}"]
    assert planned["DTSTART"].params["TZID"] == "America/Manaus"
    assert planned.decoded("DTSTART").hour == 13
    assert set(events(read(client, path))) == set(first)


def test_each_token_shows_its_own_users_items(app, client_as, client, agenda):
    path_a, path_b = new_feed(client_as("rep_a")), new_feed(client_as("rep_b"))
    assert path_a != path_b
    of_b = events(read(client, path_b))
    uid = f"crm.action.{agenda['of_rep_b']}@{domain(app)}"
    assert set(of_b) == {uid}
    assert uid not in events(read(client, path_a))


def test_a_revoked_or_replaced_token_is_a_404(app, client_as, client, agenda):
    rep = client_as("rep_a")
    old = new_feed(rep)
    page = rep.get(SETTINGS).get_data(as_text=True)
    assert "calendar-feed-active" in page and old not in page  # shown once only
    new = new_feed(rep)  # "Make a new URL"
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    # Revoking needs the CSRF token, like every button.
    assert rep.post(f"{SETTINGS}/revoke").status_code == 400
    assert client.get(new).status_code == 200
    answer = rep.post(f"{SETTINGS}/revoke", data={"csrf_token": csrf_token(rep, SETTINGS)})
    assert answer.status_code == 302
    assert client.get(new).status_code == 404
    assert "calendar-feed-active" not in rep.get(SETTINGS).get_data(as_text=True)


def test_unknown_tokens_and_inactive_users_get_a_404(app, users, client_as, client, agenda):
    path = new_feed(client_as("rep_a"))
    for wrong in ("/calendar/x.ics", "/calendar/" + "A" * 43 + ".ics",
                  path[:-8] + ("a" if path[-8] != "a" else "b") + path[-7:]):
        assert client.get(wrong).status_code == 404, wrong
    with app.app_context():
        db.session.get(User, users["rep_a"]).active = False
        db.session.commit()
    assert client.get(path).status_code == 404


def test_the_settings_need_a_login_and_the_csrf_token(app, client, client_as):
    answer = client.get(SETTINGS)
    assert answer.status_code == 302 and "/auth/login" in answer.location
    assert client.post(f"{SETTINGS}/new").status_code in (302, 400)
    rep = client_as("rep_a")
    assert rep.post(f"{SETTINGS}/new").status_code == 400  # no CSRF token
    assert "calendar-feed-active" not in rep.get(SETTINGS).get_data(as_text=True)
    assert 'href="/auth/calendar"' in rep.get("/auth/preferences").get_data(as_text=True)


def test_a_user_without_crm_gets_an_empty_valid_feed(app, client_as, client, agenda):
    path = new_feed(client_as("nobody"))
    calendar = read(client, path)
    assert events(calendar) == {} and str(calendar["VERSION"]) == "2.0"
