"""The API's accounts and account–contact links: the same rules, scope and services as
the web, JSON in and out, lists paged by cursor."""

from __future__ import annotations

from sqlalchemy import func, select

from erp.db import db
from modules.crm.models import Account, AccountContact, Category, Tag
from tests.crm.api_support import api_as, count_queries, error_of

CNPJ = "11.222.333/0001-81"
CNPJ_BRANCH = "11.222.333/0002-62"
OTHER_CNPJ = "12.ABC.345/01DE-35"
SP_IE = "110.042.490.114"


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Account.id)))


def _settings(app) -> tuple[int, int]:
    with app.app_context():
        tag, category = Tag(name="VIP"), Category(name="Indústria")
        db.session.add_all([tag, category])
        db.session.commit()
        ids = tag.id, category.id
        db.session.remove()
    return ids


def test_create_read_and_update_an_account(app, client, users):
    tag_id, category_id = _settings(app)
    api = api_as(app, client, users, "rep_a")
    created = api.post("/accounts", json={
        "legal_name": "Mosaico Tecnologia Ltda.", "tax_id": OTHER_CNPJ.lower(),
        "lifecycle": "customer", "state": "sp", "state_registration": SP_IE,
        "phone": "(11) 98765-4321", "email": "Compras@Mosaico.COM.BR", "cep": "01310-100",
        "opened_on": "2020-03-01", "tag_ids": [tag_id], "category_id": category_id,
        "priority": True})
    assert created.status_code == 201, created.json
    account = created.json
    # Stored as the service normalizes it, whoever sends it.
    assert account["tax_id"] == "12ABC34501DE35" and account["person_type"] == "PJ"
    assert account["state"] == "SP" and account["state_registration"] == "110042490114"
    assert account["phone"] == "+5511987654321" and account["cep"] == "01310100"
    assert account["email"] == "Compras@mosaico.com.br"
    assert account["opened_on"] == "2020-03-01" and account["lifecycle"] == "customer"
    assert account["tag_ids"] == [tag_id] and account["category_id"] == category_id
    assert account["owner_id"] == users["rep_a"] and account["version"] == 1
    assert account["created_at"].endswith("+00:00") and account["archived"] is False

    assert api.get(f"/accounts/{account['id']}").json == account
    updated = api.patch(f"/accounts/{account['id']}", json={
        "version": 1, "city": "São Paulo", "trade_name": "Mosaico", "tag_ids": []})
    assert updated.status_code == 200, updated.json
    assert updated.json["city"] == "São Paulo" and updated.json["display_name"] == "Mosaico"
    assert updated.json["tag_ids"] == [] and updated.json["version"] == 2
    # What was not sent did not change.
    assert updated.json["tax_id"] == "12ABC34501DE35" and updated.json["priority"] is True
    cleared = api.patch(f"/accounts/{account['id']}", json={"trade_name": None})
    assert cleared.json["trade_name"] is None and cleared.json["display_name"] == (
        "Mosaico Tecnologia Ltda.")


def test_the_services_rules_answer_422_per_field_and_write_nothing(app, client, users):
    api = api_as(app, client, users, "rep_a")
    customer = api.post("/accounts", json={"legal_name": "X", "lifecycle": "customer"})
    fields = error_of(customer, 422, "validation_error")["fields"]
    assert set(fields) == {"tax_id", "state_registration"}
    assert fields["tax_id"] == ["A customer needs a CNPJ or CPF."]
    bad = api.post("/accounts", json={"legal_name": "X", "tax_id": "11.222.333/0001-00",
                                      "phone": "12", "email": "not an e-mail"})
    assert set(error_of(bad, 422, "validation_error")["fields"]) == {"tax_id", "phone",
                                                                      "email"}
    blank = api.post("/accounts", json={"legal_name": "   "})
    assert "legal_name" in error_of(blank, 422)["fields"]
    assert _count(app) == 0


def test_an_owner_outside_the_users_scope_is_refused(app, client, users):
    api = api_as(app, client, users, "rep_a")
    response = api.post("/accounts", json={"legal_name": "X", "owner_id": users["rep_c"]})
    assert "owner_id" in error_of(response, 422)["fields"]
    manager = api_as(app, client, users, "manager")
    given = manager.post("/accounts", json={"legal_name": "X", "owner_id": users["rep_a"]})
    assert given.status_code == 201 and given.json["owner_id"] == users["rep_a"]


def test_the_same_tax_id_is_a_duplicate_nobody_can_confirm(app, client, users, make_account):
    existing = make_account("rep_c", legal_name="Já Existe", tax_id=CNPJ)
    api = api_as(app, client, users, "rep_a")
    for confirm in (False, True):
        response = api.post("/accounts", json={"legal_name": "Nova", "tax_id": CNPJ,
                                               "confirm_duplicates": confirm})
        error = error_of(response, 409, "duplicate")
        assert error["confirmable"] is False
        # rep_c's account is outside rep_a's scope: neither its id, name nor owner.
        assert existing and error["duplicates"] == [{"id": None, "name": None,
                                                     "reason": "tax_id", "blocking": True,
                                                     "owner": None, "in_scope": False}]
        assert "another portfolio" in error["message"]
        assert "tax_id" in error["fields"]
    assert _count(app) == 1


def test_similar_accounts_are_saved_once_confirmed(app, client, users, make_account):
    existing = make_account("rep_a", legal_name="Matriz", tax_id=CNPJ)
    api = api_as(app, client, users, "rep_a")
    first = api.post("/accounts", json={"legal_name": "Filial", "tax_id": CNPJ_BRANCH})
    error = error_of(first, 409, "duplicate")
    assert error["confirmable"] is True and "fields" not in error
    assert [(d["id"], d["reason"]) for d in error["duplicates"]] == [(existing, "tax_id_root")]
    assert _count(app) == 1
    confirmed = api.post("/accounts", json={"legal_name": "Filial", "tax_id": CNPJ_BRANCH,
                                            "confirm_duplicates": True})
    assert confirmed.status_code == 201
    # An update that makes an account look like another asks too.
    other = api.post("/accounts", json={"legal_name": "Outra"}).json["id"]
    same_mail = api.patch(f"/accounts/{existing}", json={"email": "a@b.com.br"})
    assert same_mail.status_code == 200
    clash = api.patch(f"/accounts/{other}", json={"email": "a@b.com.br"})
    assert error_of(clash, 409, "duplicate")["confirmable"] is True
    assert api.patch(f"/accounts/{other}", json={"email": "a@b.com.br",
                                                 "confirm_duplicates": True}).status_code == 200


def test_a_stale_version_is_409_and_changes_nothing(app, client, users, make_account):
    account_id = make_account("rep_a", legal_name="Versionada")
    api = api_as(app, client, users, "rep_a")
    assert api.patch(f"/accounts/{account_id}", json={"version": 1, "city": "A"}).json[
        "version"] == 2
    stale = api.patch(f"/accounts/{account_id}", json={"version": 1, "city": "B"})
    error = error_of(stale, 409, "stale_version")
    assert error["current_version"] == 2
    assert api.get(f"/accounts/{account_id}").json["city"] == "A"
    # Without a version, the last write wins (as a client that does not care asks).
    assert api.patch(f"/accounts/{account_id}", json={"city": "C"}).json["city"] == "C"


def test_archiving_hides_an_account_until_it_is_restored(app, client, users, make_account):
    account_id = make_account("rep_a", legal_name="Arquivável Ltda")
    kept = make_account("rep_a", legal_name="Ativa Ltda")
    api = api_as(app, client, users, "rep_a")
    archived = api.post(f"/accounts/{account_id}/archive")
    assert archived.status_code == 200 and archived.json["archived"] is True
    assert api.post(f"/accounts/{account_id}/archive").json["archived"] is True  # idempotent
    assert [a["id"] for a in api.items("/accounts")] == [kept]
    assert api.items("/accounts", q="Arquivável") == []
    assert [a["id"] for a in api.items("/accounts", archived="true")] == [account_id]
    assert api.get(f"/accounts/{account_id}").json["archived"] is True  # still readable
    restored = api.post(f"/accounts/{account_id}/unarchive")
    assert restored.json["archived"] is False
    assert [a["id"] for a in api.items("/accounts", q="Arquivável")] == [account_id]


def test_lists_page_by_cursor_in_id_order(app, client, users, make_account):
    ids = [make_account("rep_a", legal_name=f"Conta {n}") for n in range(5)]
    api = api_as(app, client, users, "rep_a")
    first = api.get("/accounts", query_string={"limit": 2}).json
    assert [a["id"] for a in first["items"]] == ids[:2] and first["next_cursor"]
    second = api.get("/accounts", query_string={"limit": 2, "after": first["next_cursor"]})
    assert [a["id"] for a in second.json["items"]] == ids[2:4]
    last = api.get("/accounts", query_string={"limit": 2,
                                              "after": second.json["next_cursor"]}).json
    assert [a["id"] for a in last["items"]] == ids[4:] and last["next_cursor"] is None
    # A full page that happens to be the last one says so too.
    exact = api.get("/accounts", query_string={"limit": 5}).json
    assert len(exact["items"]) == 5 and exact["next_cursor"] is None


def test_list_filters(app, client, users, make_account):
    tag_id, category_id = _settings(app)
    alfa = make_account("rep_a", legal_name="Alfa Indústria", tax_id=CNPJ, tag_ids=[tag_id],
                        category_id=category_id, lifecycle="customer", state="SP",
                        state_registration=SP_IE)
    beta = make_account("rep_a", legal_name="Beta Comércio", email="compras@beta.com.br")
    gama = make_account("rep_b", legal_name="Gama Serviços")
    manager = api_as(app, client, users, "manager")

    def ids(**query):
        return [a["id"] for a in manager.items("/accounts", **query)]

    assert ids() == [alfa, beta, gama]
    assert ids(q="indus") == [alfa]  # the atomic search: a fragment, without the accent
    assert ids(q="333/0001") == [alfa]  # a piece of the CNPJ, with its punctuation
    assert ids(q="compras@beta") == [beta]
    assert ids(tax_id=CNPJ) == ids(tax_id="11222333000181") == [alfa]
    assert ids(lifecycle="customer") == [alfa]
    assert ids(lifecycle="prospect") == [beta, gama]
    assert ids(owner_id=users["rep_b"]) == [gama]
    assert ids(tag_id=tag_id) == ids(category_id=category_id) == [alfa]
    assert ids(q="Gama", owner_id=users["rep_a"]) == []


def test_lists_hold_only_the_users_scope(app, client, users, make_account):
    mine = make_account("rep_a", legal_name="Minha")
    teammate = make_account("rep_b", legal_name="Do Colega")
    other_team = make_account("rep_c", legal_name="De Outro Time")

    def ids(who, **query):
        return [a["id"] for a in api_as(app, client, users, who).items("/accounts", **query)]

    assert ids("rep_a") == [mine]
    assert ids("rep_a", q="Outro Time") == ids("rep_a", owner_id=users["rep_c"]) == []
    assert ids("manager") == [mine, teammate]
    assert ids("rep_c") == [other_team]
    assert ids("admin") == [mine, teammate, other_team]


def test_a_list_page_costs_the_same_queries_whatever_its_size(app, client, users,
                                                              make_account):
    tag_id, category_id = _settings(app)
    api = api_as(app, client, users, "manager")
    api.get("/accounts")  # the token's first use writes its last_used_at

    def queries() -> int:
        with count_queries(app) as statements:
            response = api.get("/accounts", query_string={"limit": 200})
        assert response.status_code == 200
        return len(statements)

    for n in range(2):
        make_account("rep_a", legal_name=f"Pouca {n}", tag_ids=[tag_id],
                     category_id=category_id)
    few = queries()
    for n in range(10):
        make_account("rep_b", legal_name=f"Muita {n}", tag_ids=[tag_id],
                     category_id=category_id)
    assert queries() == few


# --- the account's contacts ----------------------------------------------------------------


def test_link_list_change_role_and_unlink(app, client, users, make_account, make_contact):
    account_id = make_account("rep_a")
    linked = make_contact("rep_a", account_id=account_id, role="Compras", name="Bia")
    loose = make_contact("rep_a", name="Caio")
    api = api_as(app, client, users, "rep_a")
    listed = api.get(f"/accounts/{account_id}/contacts").json
    assert [(i["contact_id"], i["role"], i["contact"]["name"]) for i in listed["items"]] == [
        (linked, "Compras", "Bia")]

    created = api.post(f"/accounts/{account_id}/contacts",
                       json={"contact_id": loose, "role": "Diretor"})
    assert created.status_code == 201 and created.json["role"] == "Diretor"
    again = api.post(f"/accounts/{account_id}/contacts",
                     json={"contact_id": loose, "role": "Diretor financeiro"})
    assert again.status_code == 200 and again.json["role"] == "Diretor financeiro"
    changed = api.patch(f"/accounts/{account_id}/contacts/{linked}", json={"role": None})
    assert changed.status_code == 200 and changed.json["role"] is None
    assert api.get(f"/accounts/{account_id}/contacts/{linked}").json["role"] is None
    too_long = api.patch(f"/accounts/{account_id}/contacts/{linked}", json={"role": "x" * 121})
    assert "role" in error_of(too_long, 422)["fields"]

    removed = api.delete(f"/accounts/{account_id}/contacts/{linked}")
    assert removed.status_code == 204 and removed.get_data() == b""
    error_of(api.get(f"/accounts/{account_id}/contacts/{linked}"), 404, "not_found")
    error_of(api.delete(f"/accounts/{account_id}/contacts/{linked}"), 404)
    assert api.get(f"/contacts/{linked}").status_code == 200  # the contact stays
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AccountContact)) == 1


def test_only_contacts_the_user_sees_can_be_linked(app, client, users, make_account,
                                                   make_contact):
    account_id = make_account("rep_a")
    theirs = make_contact("rep_c", name="Alheio")
    api = api_as(app, client, users, "rep_a")
    for contact_id in (theirs, 2**31 - 1):
        response = api.post(f"/accounts/{account_id}/contacts", json={"contact_id": contact_id})
        assert "contact_id" in error_of(response, 422, "validation_error")["fields"]
    assert api.get(f"/accounts/{account_id}/contacts").json["items"] == []


def test_an_accounts_contacts_page_by_contact_id(app, client, users, make_account,
                                                 make_contact):
    account_id = make_account("rep_a")
    ids = [make_contact("rep_a", account_id=account_id, name=f"P{n}") for n in range(3)]
    api = api_as(app, client, users, "rep_a")
    page = api.get(f"/accounts/{account_id}/contacts", query_string={"limit": 2}).json
    assert [i["contact_id"] for i in page["items"]] == ids[:2]
    rest = api.get(f"/accounts/{account_id}/contacts",
                   query_string={"limit": 2, "after": page["next_cursor"]}).json
    assert [i["contact_id"] for i in rest["items"]] == ids[2:] and rest["next_cursor"] is None
