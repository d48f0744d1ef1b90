"""Notes' own tests, as its author runs them: `pytest` in this folder. No conftest.py: every
fixture comes from Mosaic ERP's test kit (the pytest plugin erp.testing), and
pyproject.toml's `erp_modules = ["notes"]` enables Notes with CRM, which it depends on."""

from __future__ import annotations

from erp.testing import csrf_token


def test_a_rep_writes_a_note_and_finds_it_on_the_account(client_as, make_account):
    account = make_account("rep_a", legal_name="Anotada Ltda.")
    rep = client_as("rep_a")
    form = f"/notes/new?account_id={account}"
    saved = rep.post(form, data={"body": "Call back on Monday.",
                                 "csrf_token": csrf_token(rep, form)})
    assert saved.status_code == 303
    tab = rep.get(f"/crm/accounts/{account}/tabs/notes").get_data(as_text=True)
    assert 'data-count="1"' in tab and "Call back on Monday." in tab


def test_the_api_writes_and_lists_notes_within_the_record_scope(api_client, make_account):
    mine = make_account("rep_a", legal_name="Minha Ltda.")
    theirs = make_account("rep_c", legal_name="Outra Equipe Ltda.")
    rep = api_client("rep_a")
    created = rep.post("/notes", json={"account_id": mine, "body": "Via API."})
    assert created.status_code == 201 and created.json["body"] == "Via API."
    assert [n["body"] for n in rep.items("/notes")] == ["Via API."]
    refused = rep.post("/notes", json={"account_id": theirs, "body": "Not mine."})
    assert refused.status_code == 404
    assert rep.items("/notes", account_id=theirs) == []


def test_without_the_permission_nothing_of_notes_shows(client_as, make_account):
    account = make_account("rep_a")
    nobody = client_as("nobody")  # no role: no notes.read
    assert nobody.get("/api/v1/notes").status_code in (401, 403)
    assert nobody.get(f"/notes/new?account_id={account}").status_code == 403


def test_the_tab_costs_the_same_queries_for_one_note_or_many(app, client_as, make_account,
                                                            query_log):
    account = make_account("rep_a")
    rep = client_as("rep_a")
    form = f"/notes/new?account_id={account}"
    counts = []
    for notes in (1, 12):
        while rep.get(f"/crm/accounts/{account}/tabs/notes").get_data(
                as_text=True).count('class="border-start') < notes:
            rep.post(form, data={"body": "Another.", "csrf_token": csrf_token(rep, form)})
        with query_log() as statements:
            assert rep.get(f"/crm/accounts/{account}/tabs/notes").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
