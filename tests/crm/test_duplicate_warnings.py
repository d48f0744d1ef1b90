"""Issue 17, points 3 and 4: a similar name warns when saving an account (accents, case
and company suffixes aside, trigram similarity with a threshold); contacts warn on the
same e-mail or phone; a search that found nothing offers to register what was typed as a
CPF/CNPJ only when its check digits say so (a phone number is a phone); "Register a new
account" keeps what was typed and returns to the form it came from; creating an account
writes "account created" on its timeline, from the web, the API and an import."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from erp.db import db
from modules.crm.models import Account, AccountEvent
from modules.crm.models.duplicates import name_key, similarity
from modules.crm.services.duplicates import DEFAULT_THRESHOLD, similar_names
from tests.conftest import csrf_token, login_as
from tests.crm.api_support import Api, token_for
from tests.erp.importing import csv_bytes, import_dir_fixture, run_import  # noqa: F401

# --- the name key and the similarity -------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), [
    ("Teste Alfanumérico Ltda", "teste alfanumerico"),
    ("TESTE ALFANUMERICO LTDA ME", "teste alfanumerico"),
    ("Teste Alfanumérico Ltda.-ME", "teste alfanumerico"),
    ("Construtora Ômega S.A.", "construtora omega"),
    ("Construtora Omega S/A", "construtora omega"),
    ("Padaria Pão Quente EIRELI", "padaria pao quente"),
    ("Silva & Cia", "silva"),
    ("ME", "me"),  # a name that is only a suffix stays a name
])
def test_name_key_folds_accents_case_punctuation_and_company_suffixes(name, key):
    assert name_key(name) == key


def test_similarity_both_ways_of_the_threshold():
    same = similarity(name_key("Teste Alfanumérico Ltda"), name_key("TESTE ALFANUMERICO LTDA ME"))
    assert same == 1.0
    typo = similarity(name_key("Teste Alfanumerico"), name_key("Teste Alfanumerco Ltda"))
    assert typo >= DEFAULT_THRESHOLD
    for other in ("Teste Beta Ltda", "Alfa Numérica Comércio", "Silva Comércio de Peças"):
        assert similarity(name_key("Teste Alfanumérico Ltda"), name_key(other)) < (
            DEFAULT_THRESHOLD), other


def test_names_told_apart_by_their_numbers(app, make_account):
    make_account("rep_a", legal_name="Loja Centro 2 Ltda")
    same = make_account("rep_a", legal_name="LOJA CENTRO 3 LTDA ME")
    with app.app_context():
        assert similar_names({"legal_name": "Loja Centro 2 ME"}) != []  # the same number
        assert [a.id for a, _s in similar_names({"legal_name": "Loja Centro 3"})] == [same]
        assert similar_names({"legal_name": "Loja Centro 4"}) == []
        assert similar_names({"legal_name": "Loja Centro"}) == []


def test_similar_names_come_from_the_search_index(app, make_account):
    similar = make_account("rep_a", legal_name="TESTE ALFANUMERICO LTDA ME")
    make_account("rep_a", legal_name="Teste Beta Ltda")
    typo = make_account("rep_a", legal_name="Teste Alfanumerco Ltda")
    with app.app_context():
        found = similar_names({"legal_name": "Teste Alfanumérico Ltda"})
        assert [account.id for account, _score in found] == [similar, typo]
        assert found[0][1] == 1.0
        # The trade name counts too, both ways.
        assert [a.id for a, _s in similar_names({"legal_name": "Outra Razão Social",
                                                 "trade_name": "Teste Alfanumérico"})] == [
            similar, typo]
        assert similar_names({"legal_name": "Comércio Totalmente Diferente"}) == []


# --- the account form and the API ------------------------------------------------------------


def _post_account(client, users, who: str, **data):
    login_as(client, users[who])
    form = {"csrf_token": csrf_token(client, "/crm/accounts/new"), "person_type": "PJ",
            "owner_id": str(users[who]), "lifecycle": "prospect", **data}
    return client.post("/crm/accounts/new", data=form)


def test_web_form_warns_of_a_similar_name_then_saves_when_confirmed(app, client, users,
                                                                    make_account):
    existing = make_account("rep_a", legal_name="Teste Alfanumerico Ltda")
    response = _post_account(client, users, "rep_a", legal_name="TESTE ALFANUMÉRICO LTDA ME")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "similar name" in html and f'/crm/accounts/{existing}"' in html
    assert 'name="confirm_duplicates"' in html
    confirmed = _post_account(client, users, "rep_a", legal_name="TESTE ALFANUMÉRICO LTDA ME",
                              confirm_duplicates="y")
    assert confirmed.status_code == 303
    unrelated = _post_account(client, users, "rep_a", legal_name="Padaria Pão Quente")
    assert unrelated.status_code == 303


def test_a_similar_name_out_of_scope_is_neither_named_nor_linked(app, client, users,
                                                                 make_account):
    hidden = make_account("rep_c", legal_name="Segredo Alfanumérico Ltda")
    html = _post_account(client, users, "rep_a",
                         legal_name="Segredo Alfanumerico ME").get_data(as_text=True)
    assert "An account in another portfolio (ask a manager)" in html
    assert "Segredo Alfanumérico" not in html and f"/crm/accounts/{hidden}" not in html


def test_editing_without_changing_the_name_asks_nothing(app, users, make_account):
    from erp.auth.models import User
    from modules.crm.services.accounts import create_account, update_account

    make_account("rep_a", legal_name="Teste Alfanumerico Ltda")
    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        twin = create_account({"legal_name": "Teste Alfanumérico ME"}, user=user,
                              confirm_duplicates=True)
        update_account(twin, {"legal_name": "Teste Alfanumérico ME", "city": "Recife"},
                       user=user)  # no InvalidInput: the name did not change
        assert twin.city == "Recife"
        db.session.remove()


def test_api_409_lists_a_similar_name(app, client, users, make_account):
    existing = make_account("rep_a", legal_name="Teste Alfanumerico Ltda")
    api = Api(client, token_for(app, users["rep_a"]))
    response = api.post("/accounts", json={"legal_name": "TESTE ALFANUMERICO LTDA ME"})
    assert response.status_code == 409
    error = response.json["error"]
    assert error["confirmable"] is True
    assert error["duplicates"] == [{"id": existing, "name": "Teste Alfanumerico Ltda",
                                    "owner": "Rep_A", "reason": "name", "blocking": False,
                                    "in_scope": True}]
    saved = api.post("/accounts", json={"legal_name": "TESTE ALFANUMERICO LTDA ME",
                                        "confirm_duplicates": True})
    assert saved.status_code == 201


# --- contacts --------------------------------------------------------------------------------


def _post_contact(client, users, who: str, **data):
    login_as(client, users[who])
    form = {"csrf_token": csrf_token(client, "/crm/contacts/new"), **data}
    return client.post("/crm/contacts/new", data=form)


def test_contact_form_warns_of_the_same_email_or_phone(app, client, users, make_contact):
    ana = make_contact("rep_a", name="Ana Souza", email="ana@example.com",
                       mobile="(11) 98765-4321")
    for data in ({"email": "ana@example.com"}, {"phone": "11 98765 4321"}):
        response = _post_contact(client, users, "rep_a", name="Ana S.", **data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, data
        assert "Similar contacts already exist" in html and f"/crm/contacts/{ana}" in html
        assert 'name="confirm_duplicates"' in html
    confirmed = _post_contact(client, users, "rep_a", name="Ana S.", email="ana@example.com",
                              confirm_duplicates="y")
    assert confirmed.status_code == 303
    other = _post_contact(client, users, "rep_a", name="Bia", email="bia@example.com")
    assert other.status_code == 303


def test_contact_warning_out_of_scope_names_nobody(app, client, users, make_contact):
    hidden = make_contact("rep_c", name="Pessoa Secreta", email="secreta@example.com")
    response = _post_contact(client, users, "rep_a", name="Nova", email="secreta@example.com")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "A contact in another portfolio (ask a manager)" in html
    assert "Pessoa Secreta" not in html and f"/crm/contacts/{hidden}" not in html


def test_editing_a_contact_warns_only_on_a_changed_email(app, client, users, make_contact):
    make_contact("rep_a", name="Ana", email="ana@example.com")
    bia = make_contact("rep_a", name="Bia", email="bia@example.com")
    login_as(client, users["rep_a"])
    url = f"/crm/contacts/{bia}/edit"
    token = csrf_token(client, url)
    same = client.post(url, data={"csrf_token": token, "name": "Bia B.",
                                  "email": "bia@example.com", "version": "1"})
    assert same.status_code == 303
    taken = client.post(url, data={"csrf_token": token, "name": "Bia B.",
                                   "email": "ana@example.com", "version": "2"})
    assert taken.status_code == 422 and "same e-mail" in taken.get_data(as_text=True)


# --- phone or CPF: what a search that found nothing offers ----------------------------------


@pytest.mark.parametrize(("query", "expected"), [
    ("21998765432", {"phone": "21998765432"}),  # 11 digits, CPF check digits fail: a phone
    ("(21) 99876-5432", {"phone": "(21) 99876-5432"}),
    ("+55 11 3333-4444", {"phone": "+55 11 3333-4444"}),
    ("1133334444", {"phone": "1133334444"}),
    ("529.982.247-25", {"tax_id": "52998224725", "person_type": "PF"}),
    ("52998224725", {"tax_id": "52998224725", "person_type": "PF"}),
    ("11.222.333/0001-81", {"tax_id": "11222333000181", "person_type": "PJ"}),
    ("12345678901", {"legal_name": "12345678901"}),  # neither a CPF nor a phone
    ("Padaria Pão Quente", {"legal_name": "Padaria Pão Quente"}),
])
def test_phone_or_cpf_by_check_digits_and_length(app, query, expected):
    from modules.crm.services.search import new_account_args

    with app.test_request_context():
        assert new_account_args(query) == expected


def test_accounts_search_offers_a_phone_as_a_phone(client, users):
    login_as(client, users["rep_a"])
    html = client.get("/crm/accounts?q=21998765432").get_data(as_text=True)
    assert "/crm/accounts/new?phone=21998765432" in html
    assert "tax_id=21998765432" not in html and "person_type=PF" not in html


def test_top_bar_search_offers_to_register_when_nothing_is_found(client, users, make_account):
    make_account("rep_a", legal_name="Existe Ltda")
    login_as(client, users["rep_a"])
    html = client.get("/search?q=Padaria+Nova").get_data(as_text=True)
    assert 'id="search-offers"' in html and "/crm/accounts/new?legal_name=Padaria+Nova" in html
    phone = client.get("/search?q=(21)+99876-5432").get_data(as_text=True)
    assert "/crm/accounts/new?phone=" in phone
    found = client.get("/search?q=Existe").get_data(as_text=True)
    assert 'id="search-offers"' not in found


def test_no_register_offer_for_who_may_not_write(client, users):
    login_as(client, users["finance"])  # reads accounts, writes none
    html = client.get("/search?q=Padaria+Nova").get_data(as_text=True)
    assert "Nothing found" in html or "Nada encontrado" in html
    assert "/crm/accounts/new" not in html


# --- context kept: register from a form, back with the account ------------------------------


def test_register_from_the_new_opportunity_form_returns_with_the_account(client, users):
    login_as(client, users["rep_a"])
    choose = client.get("/crm/opportunities/new?account_q=Padaria+Nova").get_data(as_text=True)
    assert "/crm/accounts/new?legal_name=Padaria+Nova&amp;next=/crm/opportunities/new" in choose
    form = client.get("/crm/accounts/new?legal_name=Padaria+Nova&next=/crm/opportunities/new")
    html = form.get_data(as_text=True)
    assert 'value="Padaria Nova"' in html
    assert 'name="next" value="/crm/opportunities/new"' in html
    saved = client.post("/crm/accounts/new", data={
        "csrf_token": csrf_token(client, "/crm/accounts/new"), "person_type": "PJ",
        "legal_name": "Padaria Nova", "owner_id": str(users["rep_a"]),
        "lifecycle": "prospect", "next": "/crm/opportunities/new?account_q=Padaria"})
    assert saved.status_code == 303
    location = saved.headers["Location"]
    assert location.startswith("/crm/opportunities/new?account_id=")
    back = client.get(location)
    assert back.status_code == 200 and "Padaria Nova" in back.get_data(as_text=True)
    assert 'name="account_id"' in back.get_data(as_text=True)


@pytest.mark.parametrize("target", [
    "https://evil.example/x", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "http:/evil", "/ok\r\nSet-Cookie: x=1",
])
def test_next_must_be_a_local_path(client, users, target):
    login_as(client, users["rep_a"])
    form = client.get("/crm/accounts/new", query_string={"legal_name": "X", "next": target})
    assert 'name="next"' not in form.get_data(as_text=True)
    saved = client.post("/crm/accounts/new", data={
        "csrf_token": csrf_token(client, "/crm/accounts/new"), "person_type": "PJ",
        "legal_name": "Lugar Seguro " + str(abs(hash(target)) % 1000),
        "owner_id": str(users["rep_a"]), "lifecycle": "prospect", "next": target})
    assert saved.status_code == 303
    assert saved.headers["Location"].startswith("/crm/accounts/"), saved.headers["Location"]


def test_register_from_a_service_order_keeps_its_own_form(client, users):
    login_as(client, users["admin"])
    html = client.get("/service/orders/new?account_q=Oficina+Nova").get_data(as_text=True)
    assert "/crm/accounts/new?legal_name=Oficina+Nova&amp;next=/service/orders/new" in html


# --- "account created" on the timeline -------------------------------------------------------


def _events(app, account_id: int) -> list[tuple[str, str | None]]:
    with app.app_context():
        event = AccountEvent
        rows = db.session.execute(select(event.kind, event.source).where(
            event.account_id == account_id)).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def test_account_created_on_the_timeline_from_the_web(app, client, users):
    response = _post_account(client, users, "rep_a", legal_name="Nova Conta Web")
    account_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _events(app, account_id) == [("created", "web")]
    html = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert "Nothing happened with this account yet." not in html
    assert "Account created" in html and 'data-kind="crm.account_created"' in html


def test_account_created_on_the_timeline_from_the_api(app, client, users):
    api = Api(client, token_for(app, users["rep_a"]))
    account_id = api.post("/accounts", json={"legal_name": "Nova Conta API"}).json["id"]
    assert _events(app, account_id) == [("created", "api")]


@pytest.mark.usefixtures("import_dir")
def test_account_created_on_the_timeline_from_an_import(app, users):
    result = run_import(app, users["rep_a"], "accounts", csv_bytes(
        [["Razão Social"], ["Importada Um Ltda"], ["Importada Dois Ltda"]]))
    assert result.created == 2
    with app.app_context():
        ids = db.session.scalars(select(Account.id).order_by(Account.id)).all()
        event = AccountEvent
        events = db.session.execute(select(event.account_id, event.kind, event.source,
                                           event.user_id)).all()
        db.session.remove()
    assert sorted(tuple(e) for e in events) == [(i, "created", "import", users["rep_a"])
                                                for i in ids]
    # The events go with their accounts when the import is undone; they block nothing.
    from erp.imports import services
    from erp.imports.models import ImportJob

    with app.app_context():
        job = db.session.get(ImportJob, result.id)
        assert services.undo_blockers(job) == []
        services.undo_import(job)
        assert db.session.scalar(select(db.func.count()).select_from(AccountEvent)) == 0
        db.session.remove()
