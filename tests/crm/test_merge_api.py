"""The merge in the JSON API (issue 18): preview, merge and undo of accounts and contacts,
a manager's only (403 for a rep), both records within the caller's scope (404), versions
checked (409 stale_version), refusals (409 merge_refused / undo_refused) changing nothing."""

from __future__ import annotations

from erp.db import db
from modules.crm.models import Account, Contact
from tests.crm.api_support import api_as, error_of


def test_preview_merge_and_undo_accounts(app, client, users, make_account):
    survivor = make_account("rep_a", legal_name="Ômega Um", email="")
    merged = make_account("rep_b", legal_name="Ômega Dois", email="vendas@omega.example")
    api = api_as(app, client, users, "manager")
    body = {"survivor_id": survivor, "merged_id": merged}
    preview = api.post("/accounts/merge/preview", json=body)
    assert preview.status_code == 200, preview.json
    fields = {f["name"]: f for f in preview.json["fields"]}
    assert fields["email"] == {"name": "email", "survivor": None,
                               "merged": "vendas@omega.example", "pick": "merged"}
    assert preview.json["problems"] == []
    assert all(move["handler"] and move["lines"] for move in preview.json["moves"])
    # A version that is no longer current: nothing merged.
    stale = api.post("/accounts/merge", json={**body, "survivor_version": 99})
    error_of(stale, 409, "stale_version")
    done = api.post("/accounts/merge", json={
        **body, "picks": {"legal_name": "merged"},
        "survivor_version": preview.json["survivor_version"],
        "merged_version": preview.json["merged_version"]})
    assert done.status_code == 200, done.json
    assert done.json["survivor_id"] == survivor and done.json["undone_at"] is None
    assert api.get(f"/accounts/{merged}").json["merged_into_id"] == survivor
    assert api.get(f"/accounts/{survivor}").json["merged_into_id"] is None
    with app.app_context():
        kept = db.session.get(Account, survivor)
        assert kept.legal_name == "Ômega Dois" and kept.email == "vendas@omega.example"
        assert db.session.get(Account, merged).merged_into_id == survivor
    # The merged account cannot be merged again; the merge undone once only.
    error_of(api.post("/accounts/merge", json=body), 409, "merge_refused")
    undone = api.post("/merges/undo", json={"merge_id": done.json["id"]})
    assert undone.status_code == 200 and undone.json["undone_at"]
    error_of(api.post("/merges/undo", json={"merge_id": done.json["id"]}), 409, "undo_refused")
    with app.app_context():
        assert db.session.get(Account, survivor).legal_name == "Ômega Um"
        assert db.session.get(Account, merged).merged_into_id is None


def test_refusals_scope_and_permission(app, client, users, make_account):
    first = make_account("rep_a", legal_name="Sigma Um", tax_id="11.222.333/0001-81")
    second = make_account("rep_a", legal_name="Sigma Dois", tax_id="11.444.777/0001-61")
    elsewhere = make_account("rep_c", legal_name="Sigma Três")
    manager = api_as(app, client, users, "manager")
    refused = manager.post("/accounts/merge", json={"survivor_id": first, "merged_id": second})
    error = error_of(refused, 409, "merge_refused")
    assert any("different tax ids" in p for p in error["problems"])
    for pair in ((first, elsewhere), (elsewhere, first)):
        body = {"survivor_id": pair[0], "merged_id": pair[1]}
        for path in ("/accounts/merge/preview", "/accounts/merge"):
            error_of(manager.post(path, json=body), 404, "not_found")
    rep = api_as(app, client, users, "rep_a")
    error_of(rep.post("/accounts/merge", json={"survivor_id": first, "merged_id": second}),
             403, "forbidden")
    error_of(manager.post("/accounts/merge", json={"survivor_id": first, "merged_id": second,
                                                    "picks": {"email": "neither"}}), 422)
    with app.app_context():
        assert not any(db.session.get(Account, i).archived for i in (first, second, elsewhere))


def test_contacts_merge_and_undo_out_of_scope(app, client, users, make_contact, make_account):
    survivor = make_contact("rep_a", name="Paula Lima")
    merged = make_contact("rep_a", name="Paula de Lima", email="paula@example.com")
    manager = api_as(app, client, users, "manager")
    done = manager.post("/contacts/merge", json={"survivor_id": survivor, "merged_id": merged})
    assert done.status_code == 200, done.json
    with app.app_context():
        assert db.session.get(Contact, survivor).email == "paula@example.com"
    undo = {"merge_id": done.json["id"]}
    # A rep may not undo it (no crm.manage).
    error_of(api_as(app, client, users, "rep_c").post("/merges/undo", json=undo), 403,
             "forbidden")
    assert manager.post("/merges/undo", json=undo).status_code == 200
    error_of(manager.post("/merges/undo", json={"merge_id": 999999}), 404, "not_found")
    # Another team's merge (made by an admin) is not the manager's to see, nor to undo.
    theirs = [make_account("rep_c", legal_name=f"Kappa {n}") for n in (1, 2)]
    admin = api_as(app, client, users, "admin")
    other = admin.post("/accounts/merge", json={"survivor_id": theirs[0],
                                                "merged_id": theirs[1]})
    assert other.status_code == 200, other.json
    error_of(manager.post("/merges/undo", json={"merge_id": other.json["id"]}), 404,
             "not_found")
    error_of(manager.post("/accounts/merge/preview", json={"survivor_id": theirs[0],
                                                           "merged_id": theirs[1]}), 404,
             "not_found")
