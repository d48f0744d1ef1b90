"""The API's contacts: create (linked or not), read, update with versions, archive, list."""

from __future__ import annotations

from sqlalchemy import func, select

from erp.db import db
from modules.crm.models import AccountContact, Contact
from tests.crm.api_support import api_as, count_queries, error_of


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count(Contact.id))),
                db.session.scalar(select(func.count()).select_from(AccountContact)))


def test_create_a_contact_linked_to_an_account(app, client, users, make_account):
    account_id = make_account("rep_a")
    api = api_as(app, client, users, "rep_a")
    created = api.post("/contacts", json={
        "name": " Bia Souza ", "position": "Compradora", "email": "Bia@Empresa.COM.BR",
        "mobile": "(11) 98765-4321", "account_id": account_id, "role": "Compras"})
    assert created.status_code == 201, created.json
    contact = created.json
    assert contact["name"] == "Bia Souza" and contact["email"] == "Bia@empresa.com.br"
    assert contact["mobile"] == "+5511987654321" and contact["owner_id"] == users["rep_a"]
    assert contact["version"] == 1 and contact["archived"] is False
    link = api.get(f"/accounts/{account_id}/contacts/{contact['id']}").json
    assert link["role"] == "Compras" and link["contact"] == contact
    assert api.get(f"/contacts/{contact['id']}").json == contact

    alone = api.post("/contacts", json={"name": "Sem Conta"})
    assert alone.status_code == 201
    assert _counts(app) == (2, 1)


def test_a_contact_is_refused_as_the_form_refuses_it(app, client, users, make_account):
    theirs = make_account("rep_c")
    api = api_as(app, client, users, "rep_a")
    invalid = api.post("/contacts", json={"name": "", "phone": "123", "email": "x@"})
    assert set(error_of(invalid, 422, "validation_error")["fields"]) == {"name", "phone",
                                                                          "email"}
    hidden = api.post("/contacts", json={"name": "Ana", "account_id": theirs})
    assert "account_id" in error_of(hidden, 422)["fields"]
    role_alone = api.post("/contacts", json={"name": "Ana", "role": "Compras"})
    assert "role" in error_of(role_alone, 422)["fields"]
    missing = api.post("/contacts", json={"position": "Sem nome"})
    assert "name" in error_of(missing, 422)["fields"]
    assert _counts(app) == (0, 0)


def test_update_with_and_without_a_version(app, client, users, make_contact):
    contact_id = make_contact("rep_a", name="Caio")
    api = api_as(app, client, users, "rep_a")
    updated = api.patch(f"/contacts/{contact_id}", json={"version": 1, "position": "Diretor"})
    assert updated.status_code == 200
    assert updated.json["position"] == "Diretor" and updated.json["name"] == "Caio"
    assert updated.json["version"] == 2
    stale = api.patch(f"/contacts/{contact_id}", json={"version": 1, "name": "Outro"})
    assert error_of(stale, 409, "stale_version")["current_version"] == 2
    blank = api.patch(f"/contacts/{contact_id}", json={"name": " "})
    assert "name" in error_of(blank, 422)["fields"]
    assert api.get(f"/contacts/{contact_id}").json["name"] == "Caio"
    cleared = api.patch(f"/contacts/{contact_id}", json={"position": None})
    assert cleared.json["position"] is None


def test_archive_hides_a_contact_from_lists_not_from_its_links(app, client, users,
                                                               make_account, make_contact):
    account_id = make_account("rep_a")
    contact_id = make_contact("rep_a", account_id=account_id, role="Compras",
                              name="Arquivada Silva")
    api = api_as(app, client, users, "rep_a")
    assert api.post(f"/contacts/{contact_id}/archive").json["archived"] is True
    assert api.items("/contacts") == [] and api.items("/contacts", q="Arquivada") == []
    assert [c["id"] for c in api.items("/contacts", archived="true")] == [contact_id]
    assert api.get(f"/accounts/{account_id}/contacts/{contact_id}").status_code == 200
    assert api.post(f"/contacts/{contact_id}/unarchive").json["archived"] is False
    assert [c["id"] for c in api.items("/contacts", q="Arquivada")] == [contact_id]


def test_list_filters_and_scope(app, client, users, make_account, make_contact):
    mine = make_account("rep_a")
    bia = make_contact("rep_a", account_id=mine, name="Bia", email="bia@alfa.com.br")
    caio = make_contact("rep_a", name="Caio")
    # rep_c's contact, linked to rep_a's account: rep_a sees it through the account.
    dani = make_contact("rep_c", account_id=mine, name="Dani")
    hidden = make_contact("rep_c", name="Eva")
    api = api_as(app, client, users, "rep_a")

    def ids(**query):
        return [c["id"] for c in api.items("/contacts", **query)]

    assert ids() == [bia, caio, dani]
    assert ids(account_id=mine) == [bia, dani]
    assert ids(q="bia@alfa") == [bia]
    assert ids(owner_id=users["rep_c"]) == [dani]
    assert ids(q="Eva") == []
    # The links of an account rep_a cannot see stay unsaid, even to the contacts rep_a sees.
    theirs = make_account("rep_c")
    api_as(app, client, users, "rep_c").post(f"/accounts/{theirs}/contacts",
                                             json={"contact_id": dani})
    assert ids(account_id=theirs) == []
    assert api.get(f"/contacts/{dani}").status_code == 200
    error_of(api.get(f"/contacts/{hidden}"), 404, "not_found")
    assert [c["id"] for c in api_as(app, client, users, "rep_c").items("/contacts")] == [
        dani, hidden]


def test_a_list_page_costs_the_same_queries_whatever_its_size(app, client, users,
                                                              make_account, make_contact):
    account_id = make_account("rep_a")
    api = api_as(app, client, users, "rep_a")
    api.get("/contacts")

    def queries() -> int:
        with count_queries(app) as statements:
            assert api.get("/contacts", query_string={"limit": 200}).status_code == 200
        return len(statements)

    make_contact("rep_a", account_id=account_id, name="Um")
    few = queries()
    for n in range(8):
        make_contact("rep_a", account_id=account_id, name=f"Outro {n}")
    assert queries() == few
