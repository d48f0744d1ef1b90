"""The API's opportunities: items as decimal strings, the funnel, won/lost/reopen, history,
archive, the web's visibility rules (scope, followers)."""

from __future__ import annotations

from sqlalchemy import select

from erp.db import db
from modules.crm.models import Account, LossReason, OpportunityChange
from tests.crm.api_support import api_as, count_queries, error_of


def _history(app, opportunity_id: int) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(OpportunityChange).where(
            OpportunityChange.opportunity_id == opportunity_id).order_by(OpportunityChange.id))
        return [(row.field, row.new_value) for row in rows]


def test_create_with_items_and_update(app, client, users, pipeline, make_account,
                                      make_contact):
    account_id = make_account("rep_a")
    contact_id = make_contact("rep_a", account_id=account_id, name="Bia")
    api = api_as(app, client, users, "rep_a")
    created = api.post("/opportunities", json={
        "title": "ERP + NFS-e", "account_id": account_id, "contact_id": contact_id,
        "expected_close_on": "2026-12-31", "contact_medium": "referral",
        "watcher_ids": [users["rep_b"]],
        "items": [{"description": "Licenças", "quantity": "3", "unit_price": "1234.56"},
                  {"description": "Implantação", "unit_price": "0.10"}]})
    assert created.status_code == 201, created.json
    opportunity = created.json
    assert opportunity["estimated_value"] == "3703.78"  # 3 × 1234.56 + 1 × 0.10
    assert [(i["quantity"], i["unit_price"], i["total"]) for i in opportunity["items"]] == [
        ("3.000", "1234.56", "3703.68"), ("1.000", "0.10", "0.10")]
    assert opportunity["status"] == "open" and opportunity["owner_id"] == users["rep_a"]
    assert opportunity["stage_id"] == pipeline["stages"]["Prospecção"]  # the first stage
    assert opportunity["expected_close_on"] == "2026-12-31"
    assert opportunity["watcher_ids"] == [users["rep_b"]]
    assert api.get(f"/opportunities/{opportunity['id']}").json == opportunity

    # "1.234" is one and a bit, never read as a thousand (as the forms' pt-BR parsing would).
    updated = api.patch(f"/opportunities/{opportunity['id']}", json={
        "version": 1, "items": [{"description": "Licença", "quantity": "1.234",
                                 "unit_price": "100.00"}]})
    assert updated.status_code == 200, updated.json
    assert updated.json["estimated_value"] == "123.40" and updated.json["version"] == 2
    assert updated.json["title"] == "ERP + NFS-e"  # not sent: unchanged
    stale = api.patch(f"/opportunities/{opportunity['id']}", json={"version": 1, "title": "X"})
    assert error_of(stale, 409, "stale_version")["current_version"] == 2
    assert [f for f, _v in _history(app, opportunity["id"])] == ["created", "value"]


def test_input_the_service_refuses(app, client, users, pipeline, make_account):
    mine, theirs = make_account("rep_a"), make_account("rep_c")
    api = api_as(app, client, users, "rep_a")
    hidden = api.post("/opportunities", json={"title": "X", "account_id": theirs})
    assert "account_id" in error_of(hidden, 422, "validation_error")["fields"]
    bad = api.post("/opportunities", json={
        "title": "X", "account_id": mine, "stage_id": 2**31 - 1,
        "items": [{"description": " ", "quantity": "-1"}]})
    fields = error_of(bad, 422)["fields"]
    assert "stage_id" in fields
    # The form's "items-0-quantity" comes back nested, as marshmallow's own errors do.
    assert set(fields["items"]["0"]) == {"description", "quantity"}
    as_number = api.post("/opportunities", json={
        "title": "X", "account_id": mine, "items": [{"description": "a", "quantity": 2}]})
    assert error_of(as_number, 422)["fields"] == {"items": {"0": {"quantity": [
        'Send a decimal string such as "1234.50", with at most 3 decimal places.']}}}
    for price in ("10.005", "1e3", "R$ 10,00", "NaN", ""):
        response = api.post("/opportunities", json={
            "title": "X", "account_id": mine,
            "items": [{"description": "a", "unit_price": price}]})
        assert error_of(response, 422)["fields"]["items"]["0"].keys() == {"unit_price"}
    too_much = api.post("/opportunities", json={
        "title": "X", "account_id": mine,
        "items": [{"description": "a", "quantity": "999999999", "unit_price": "999999999999"}]})
    assert "items" in error_of(too_much, 422)["fields"]  # (a 500 on PostgreSQL before)


def test_won_lost_reopen_and_stage_moves(app, client, users, pipeline, make_account,
                                         make_opportunity):
    account_id = make_account("rep_a")
    opportunity_id = make_opportunity(account_id, "rep_a")
    api = api_as(app, client, users, "rep_a")
    url = f"/opportunities/{opportunity_id}"
    negotiation = pipeline["stages"]["Negociação"]
    moved = api.post(f"{url}/stage", json={"stage_id": negotiation})
    assert moved.status_code == 200 and moved.json["stage_id"] == negotiation

    reason_id = next(iter(pipeline["reasons"].values()))
    no_reason = api.post(f"{url}/lost", json={})
    assert "loss_reason_id" in error_of(no_reason, 422)["fields"]
    lost = api.post(f"{url}/lost", json={"loss_reason_id": reason_id, "note": "Caro"})
    assert lost.status_code == 200
    assert (lost.json["status"], lost.json["loss_reason_id"], lost.json["loss_note"]) == (
        "lost", reason_id, "Caro")
    assert lost.json["closed_at"] is not None
    closed = api.post(f"{url}/stage", json={"stage_id": pipeline["stages"]["Prospecção"]})
    assert "stage_id" in error_of(closed, 422)["fields"]  # reopen it first

    reopened = api.post(f"{url}/reopen")
    assert reopened.json["status"] == "open" and reopened.json["loss_reason_id"] is None
    won = api.post(f"{url}/won")
    assert won.json["status"] == "won"
    with app.app_context():
        assert db.session.get(Account, account_id).lifecycle == "customer"
    assert [f for f, _v in _history(app, opportunity_id)] == [
        "created", "stage", "status", "status", "status"]


def test_an_archived_loss_reason_cannot_be_chosen(app, client, users, pipeline,
                                                  make_account, make_opportunity):
    opportunity_id = make_opportunity(make_account("rep_a"), "rep_a")
    reason_id = next(iter(pipeline["reasons"].values()))
    with app.app_context():
        db.session.get(LossReason, reason_id).archived = True
        db.session.commit()
    api = api_as(app, client, users, "rep_a")
    assert reason_id not in [r["id"] for r in api.get("/loss-reasons").json]
    response = api.post(f"/opportunities/{opportunity_id}/lost",
                        json={"loss_reason_id": reason_id})
    assert "loss_reason_id" in error_of(response, 422)["fields"]


def test_archive_and_list_filters(app, client, users, pipeline, make_account,
                                  make_opportunity):
    alfa, beta = make_account("rep_a"), make_account("rep_b")
    first = make_opportunity(alfa, "rep_a")
    second = make_opportunity(alfa, "rep_a", stage_id=pipeline["stages"]["Negociação"])
    third = make_opportunity(beta, "rep_b")
    manager = api_as(app, client, users, "manager")
    manager.post(f"/opportunities/{third}/won")

    def ids(**query):
        return [o["id"] for o in manager.items("/opportunities", **query)]

    assert ids() == [first, second, third]
    assert ids(account_id=alfa) == [first, second]
    assert ids(stage_id=pipeline["stages"]["Negociação"]) == [second]
    assert ids(status="won") == [third] and ids(status="open") == [first, second]
    assert ids(owner_id=users["rep_b"]) == [third]
    assert manager.post(f"/opportunities/{first}/archive").json["archived"] is True
    assert ids() == [second, third] and ids(archived="true") == [first]
    assert manager.post(f"/opportunities/{first}/unarchive").json["archived"] is False
    assert [o["id"] for o in api_as(app, client, users, "rep_a").items("/opportunities")] == [
        first, second]


def test_a_follower_reads_it_by_id_as_on_the_web(app, client, users, pipeline, make_account,
                                                 make_opportunity):
    opportunity_id = make_opportunity(make_account("rep_a"), "rep_a",
                                      watcher_ids=[users["rep_c"]])
    follower = api_as(app, client, users, "rep_c")
    assert follower.get(f"/opportunities/{opportunity_id}").status_code == 200
    assert follower.items("/opportunities") == []  # the list is by scope, as on the web
    error_of(api_as(app, client, users, "rep_b").get(f"/opportunities/{opportunity_id}"), 404)


def test_a_list_page_costs_the_same_queries_whatever_its_size(app, client, users, pipeline,
                                                              make_account, make_opportunity):
    account_id = make_account("rep_a")
    item = [{"description": "Item", "quantity": "1", "unit_price": "10"}]
    api = api_as(app, client, users, "rep_a")
    api.get("/opportunities")

    def queries() -> int:
        with count_queries(app) as statements:
            assert api.get("/opportunities", query_string={"limit": 200}).status_code == 200
        return len(statements)

    make_opportunity(account_id, "rep_a", items=item, watcher_ids=[users["rep_b"]])
    few = queries()
    for _n in range(6):
        make_opportunity(account_id, "rep_a", items=item, watcher_ids=[users["rep_b"]])
    assert queries() == few
