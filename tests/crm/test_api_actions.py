"""The API's actions: record and plan, mark done, filters and time ranges, scope, and an
archive that takes an action off the web's timeline, agenda and opportunity page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import login_as
from tests.crm.api_support import api_as, count_queries, error_of


def test_record_and_plan_actions(app, client, users, pipeline, make_account, make_contact,
                                 make_opportunity):
    account_id = make_account("rep_a")
    contact_id = make_contact("rep_a", account_id=account_id, name="Bia")
    opportunity_id = make_opportunity(account_id, "rep_a")
    api = api_as(app, client, users, "rep_a")
    done = api.post("/actions", json={
        "opportunity_id": opportunity_id, "kind": "visit", "contact_id": contact_id,
        "at": "2026-01-05T14:30:00+00:00", "description": "Visita técnica"})
    assert done.status_code == 201, done.json
    action = done.json
    # The account comes from the opportunity; a past time is a done action.
    assert action["account_id"] == account_id and action["done"] is True
    assert action["at"] == "2026-01-05T14:30:00+00:00" and action["user_id"] == users["rep_a"]
    assert api.get(f"/actions/{action['id']}").json == action

    future = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    planned = api.post("/actions", json={"account_id": account_id, "kind": "call",
                                         "at": future.isoformat()})
    assert planned.json["done"] is False
    completed = api.post(f"/actions/{planned.json['id']}/done")
    assert completed.json["done"] is True
    assert datetime.fromisoformat(completed.json["at"]) <= datetime.now(UTC)

    changed = api.patch(f"/actions/{action['id']}", json={"description": "Visita e almoço",
                                                          "contact_id": None})
    assert changed.status_code == 200
    assert changed.json["description"] == "Visita e almoço" and changed.json["contact_id"] is None
    assert changed.json["kind"] == "visit"


def test_the_services_rules_for_actions(app, client, users, pipeline, make_account,
                                        make_opportunity):
    mine, theirs = make_account("rep_a"), make_account("rep_c")
    other_opportunity = make_opportunity(make_account("rep_a"), "rep_a")
    api = api_as(app, client, users, "rep_a")
    hidden = api.post("/actions", json={"account_id": theirs, "kind": "call"})
    assert "account_id" in error_of(hidden, 422, "validation_error")["fields"]
    mismatch = api.post("/actions", json={"account_id": mine, "kind": "call",
                                          "opportunity_id": other_opportunity})
    assert "opportunity_id" in error_of(mismatch, 422)["fields"]
    far = api.post("/actions", json={"account_id": mine, "kind": "call",
                                     "at": "3100-01-01T00:00:00"})
    assert "at" in error_of(far, 422)["fields"]
    kind = api.post("/actions", json={"account_id": mine, "kind": "telepathy"})
    assert "kind" in error_of(kind, 422)["fields"]
    stranger = api.post("/actions", json={"account_id": mine, "kind": "call",
                                          "user_id": users["rep_c"]})
    assert "user_id" in error_of(stranger, 422)["fields"]
    assert api.items("/actions") == []


def test_filters_and_time_ranges(app, client, users, pipeline, make_account,
                                 make_opportunity):
    alfa, beta = make_account("rep_a"), make_account("rep_b")
    opportunity_id = make_opportunity(alfa, "rep_a")
    rep_a, rep_b = api_as(app, client, users, "rep_a"), api_as(app, client, users, "rep_b")

    def add(api, **data):
        response = api.post("/actions", json=data)
        assert response.status_code == 201, response.json
        return response.json["id"]

    call = add(rep_a, account_id=alfa, kind="call", at="2026-01-10T12:00:00+00:00")
    visit = add(rep_a, account_id=alfa, kind="visit", opportunity_id=opportunity_id,
                at="2026-02-10T12:00:00+00:00")
    planned = add(rep_a, account_id=alfa, kind="call", at="2999-03-10T12:00:00+00:00")
    teammate = add(rep_b, account_id=beta, kind="note", at="2026-01-20T12:00:00+00:00")
    manager = api_as(app, client, users, "manager")

    def ids(**query):
        return [a["id"] for a in manager.items("/actions", **query)]

    assert ids() == [call, visit, planned, teammate]
    assert ids(account_id=alfa) == [call, visit, planned]
    assert ids(opportunity_id=opportunity_id) == [visit]
    assert ids(user_id=users["rep_b"]) == [teammate]
    assert ids(kind="call") == [call, planned]
    assert ids(done="false") == [planned] and ids(done="true") == [call, visit, teammate]
    assert ids(since="2026-01-15T00:00:00+00:00", until="2026-03-01T00:00:00+00:00") == [
        visit, teammate]
    assert ids(until="2026-01-10T12:00:00+00:00") == []  # until excludes its own instant
    assert ids(since="2026-01-10T12:00:00Z", until="2026-01-10T12:00:01Z") == [call]
    assert [a["id"] for a in rep_a.items("/actions")] == [call, visit, planned]
    assert api_as(app, client, users, "rep_c").items("/actions") == []
    out_of_range = manager.get("/actions", query_string={"since": "1800-01-01T00:00:00"})
    assert "since" in error_of(out_of_range, 422)["fields"]


def test_an_archived_action_leaves_the_web_pages(app, client, users, pipeline, make_account,
                                                 make_opportunity):
    account_id = make_account("rep_a")
    opportunity_id = make_opportunity(account_id, "rep_a")
    api = api_as(app, client, users, "rep_a")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    planned = api.post("/actions", json={
        "account_id": account_id, "opportunity_id": opportunity_id, "kind": "meeting",
        "at": tomorrow.isoformat(), "description": "Reunião de alinhamento"}).json
    done = api.post("/actions", json={
        "account_id": account_id, "opportunity_id": opportunity_id, "kind": "call",
        "at": "2026-01-05T10:00:00+00:00", "description": "Ligação de cortesia"}).json
    browser = app.test_client()
    login_as(browser, users["rep_a"])

    def shown() -> dict[str, bool]:
        timeline = browser.get(f"/crm/accounts/{account_id}?tab=timeline").get_data(True)
        page = browser.get(f"/crm/opportunities/{opportunity_id}").get_data(True)
        agenda = browser.get("/crm/agenda").get_data(True)
        return {"timeline": "Ligação de cortesia" in timeline,
                "opportunity": "Ligação de cortesia" in page,
                "agenda": "Reunião de alinhamento" in agenda}

    assert shown() == {"timeline": True, "opportunity": True, "agenda": True}
    for action in (planned, done):
        archived = api.post(f"/actions/{action['id']}/archive")
        assert archived.status_code == 200 and archived.json["archived"] is True
    assert shown() == {"timeline": False, "opportunity": False, "agenda": False}
    assert api.items("/actions") == []
    assert {a["id"] for a in api.items("/actions", archived="true")} == {planned["id"],
                                                                         done["id"]}
    for action in (planned, done):
        assert api.post(f"/actions/{action['id']}/unarchive").json["archived"] is False
    assert shown() == {"timeline": True, "opportunity": True, "agenda": True}


def test_a_list_page_costs_the_same_queries_whatever_its_size(app, client, users, pipeline,
                                                              make_account, make_contact,
                                                              make_opportunity):
    account_id = make_account("rep_a")
    contact_id = make_contact("rep_a", account_id=account_id, name="Bia")
    opportunity_id = make_opportunity(account_id, "rep_a")
    api = api_as(app, client, users, "manager")
    api.get("/actions")
    rep = api_as(app, client, users, "rep_a")

    def queries() -> int:
        with count_queries(app) as statements:
            assert api.get("/actions", query_string={"limit": 200}).status_code == 200
        return len(statements)

    def add():
        assert rep.post("/actions", json={"account_id": account_id, "kind": "call",
                                          "contact_id": contact_id,
                                          "opportunity_id": opportunity_id}).status_code == 201

    add()
    few = queries()
    for _n in range(6):
        add()
    assert queries() == few
