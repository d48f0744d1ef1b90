"""Accounts: the rules of the service, and the pages that use it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from erp.auth.models import User
from erp.db import db
from erp.errors import Conflict, InvalidInput
from modules.crm.models import Account
from modules.crm.services.accounts import (
    create_account,
    find_duplicates,
    promote_to_customer,
    update_account,
)
from tests.conftest import csrf_token, login_as

CNPJ = "11.222.333/0001-81"
CNPJ_BRANCH = "11.222.333/0002-62"
ALNUM_CNPJ = "12.ABC.345/01DE-35"
CPF = "529.982.247-25"
SP_IE = "110.042.490.114"


def user(app, users, name="rep_a") -> User:
    return db.session.get(User, users[name])


def count_accounts() -> int:
    return db.session.scalar(select(func.count(Account.id)))


# --- the service ---------------------------------------------------------------


def test_a_prospect_needs_only_a_name(app, users):
    with app.app_context():
        account = create_account({"legal_name": "  Padaria Pão Quente  "}, user=user(app, users))
        assert account.legal_name == "Padaria Pão Quente"
        assert account.lifecycle == "prospect" and account.owner_id == users["rep_a"]
        with pytest.raises(InvalidInput) as error:
            create_account({"legal_name": " "}, user=user(app, users))
        assert "legal_name" in error.value.errors


def test_a_customer_needs_tax_id_and_state_registration(app, users):
    with app.app_context():
        rep = user(app, users)
        with pytest.raises(InvalidInput) as error:
            create_account({"legal_name": "X", "lifecycle": "customer"}, user=rep)
        assert set(error.value.errors) == {"tax_id", "state_registration"}
        with pytest.raises(InvalidInput) as error:
            create_account({"legal_name": "X", "lifecycle": "customer", "tax_id": CNPJ},
                           user=rep)
        assert set(error.value.errors) == {"state_registration"}
        account = create_account({"legal_name": "X", "lifecycle": "customer", "tax_id": CNPJ,
                                  "state_registration": " isento "}, user=rep)
        assert account.state_registration == "ISENTO"
        person = create_account({"legal_name": "Maria", "lifecycle": "customer", "tax_id": CPF},
                                user=rep)
        assert person.person_type == "PF"  # guessed from the 11 digits


def test_tax_data_is_stored_normalized_and_shown_formatted(app, users):
    with app.app_context():
        account = create_account({"legal_name": "Alfa", "tax_id": "12.abc.345/01de-35",
                                  "state": "sp", "state_registration": SP_IE,
                                  "phone": "(11) 98765-4321", "email": "Compras@Alfa.COM.BR",
                                  "cep": "01310-100", "website": "alfa.com.br"},
                                 user=user(app, users))
        assert account.tax_id == "12ABC34501DE35" and account.tax_id_root == "12ABC345"
        assert account.tax_id_formatted == ALNUM_CNPJ
        assert account.state == "SP" and account.state_registration == "110042490114"
        assert account.phone == "+5511987654321"
        assert account.phone_formatted == "(11) 98765-4321"
        assert account.email == "Compras@alfa.com.br"
        assert account.cep == "01310100" and account.website == "https://alfa.com.br"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"tax_id": "11.222.333/0001-82"}, "tax_id"),
        ({"tax_id": "12.ABC.345/01DE-36"}, "tax_id"),
        ({"person_type": "PF", "tax_id": CNPJ}, "tax_id"),
        ({"state": "SP", "state_registration": "123"}, "state_registration"),
        ({"state": "XX"}, "state"),
        ({"phone": "123"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"cep": "123"}, "cep"),
        ({"person_type": "XX"}, "person_type"),
        ({"owner_id": 999999}, "owner_id"),
        ({"category_id": 999999}, "category_id"),
        ({"opened_on": "31/31/2026"}, "opened_on"),
        ({"legal_name": "x" * 201}, "legal_name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_is_written(app, users, data, field):
    with app.app_context():
        before = count_accounts()
        with pytest.raises(InvalidInput) as error:
            create_account({"legal_name": "Beta", **data}, user=user(app, users))
        assert field in error.value.errors
        assert all(str(message) for message in error.value.errors[field])
        db.session.rollback()
        assert count_accounts() == before


def test_same_tax_id_is_refused(app, users, make_account):
    existing = make_account(tax_id=CNPJ, owner="rep_b")
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            create_account({"legal_name": "Twin", "tax_id": "11222333000181"},
                           user=user(app, users), confirm_duplicates=True)
        # rep_b's account, outside rep_a's scope: the message does not say whose it is.
        assert "another portfolio; ask a manager" in str(error.value.errors["tax_id"][0])
        assert [d.record.id for d in error.value.duplicates] == [existing]
        assert error.value.duplicates[0].blocking and not error.value.duplicates[0].visible
        db.session.rollback()
        with pytest.raises(InvalidInput) as error:
            create_account({"legal_name": "Twin", "tax_id": "11222333000181"},
                           user=user(app, users, "admin"))
        assert "already registered" in str(error.value.errors["tax_id"][0])
        assert error.value.duplicates[0].visible


@pytest.mark.parametrize(
    ("existing", "new", "reason"),
    [
        ({"tax_id": CNPJ}, {"tax_id": CNPJ_BRANCH}, "tax_id_root"),
        ({"email": "a@empresa.com.br"}, {"email": "a@EMPRESA.com.br"}, "email"),
        ({"phone": "(11) 98765-4321"}, {"mobile": "+55 11 98765 4321"}, "phone"),
    ],
)
def test_similar_accounts_need_confirmation(app, users, make_account, existing, new, reason):
    existing_id = make_account(**existing)
    with app.app_context():
        rep = user(app, users)
        with pytest.raises(InvalidInput) as error:
            create_account({"legal_name": "Maybe twin", **new}, user=rep)
        assert error.value.needs_confirmation
        assert [(d.record.id, d.reason) for d in error.value.duplicates] == [(existing_id, reason)]
        db.session.rollback()
        account = create_account({"legal_name": "Maybe twin", **new}, user=rep,
                                 confirm_duplicates=True)
        assert account.id != existing_id


def test_editing_an_account_does_not_flag_itself(app, users, make_account):
    account_id = make_account(tax_id=CNPJ, email="x@empresa.com.br")
    with app.app_context():
        account = db.session.get(Account, account_id)
        assert find_duplicates({"tax_id": account.tax_id, "email": account.email},
                               exclude_id=account_id) == []
        update_account(account, {"tax_id": CNPJ, "trade_name": "Novo"}, user=user(app, users))
        assert account.trade_name == "Novo"


def test_concurrent_edit_is_detected(app, users, make_account):
    account_id = make_account()
    with app.app_context():
        account = db.session.get(Account, account_id)
        seen = account.version
        update_account(account, {"trade_name": "First"}, user=user(app, users),
                       expected_version=seen)
        with pytest.raises(Conflict):
            update_account(account, {"trade_name": "Second"}, user=user(app, users),
                           expected_version=seen)
        assert db.session.get(Account, account_id).trade_name == "First"


def test_owner_must_be_within_the_users_scope(app, users):
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            create_account({"legal_name": "X", "owner_id": users["rep_b"]}, user=user(app, users))
        assert "owner_id" in error.value.errors
        account = create_account({"legal_name": "X", "owner_id": users["rep_b"]},
                                 user=user(app, users, "manager"))
        assert account.owner_id == users["rep_b"]


def test_promote_to_customer(app, users, make_account):
    account_id = make_account()
    with app.app_context():
        account = db.session.get(Account, account_id)
        assert promote_to_customer(account) is True
        assert promote_to_customer(account) is False
        db.session.commit()
        assert db.session.get(Account, account_id).lifecycle == "customer"


# --- the pages -----------------------------------------------------------------


def post_form(client, url, data, token_url=None):
    token = csrf_token(client, token_url or url)
    return client.post(url, data={"csrf_token": token, **data})


def test_create_through_the_form(app, client, users):
    login_as(client, users["rep_a"])
    response = post_form(client, "/crm/accounts/new", {
        "person_type": "PJ", "tax_id": CNPJ, "legal_name": "Mosaico Tecnologia Ltda.",
        "lifecycle": "customer", "state": "SP", "state_registration": "ISENTO",
        "owner_id": str(users["rep_a"]), "phone": "(11) 3333-4444",
    })
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "Mosaico Tecnologia Ltda." in page and CNPJ in page and "(11) 3333-4444" in page


def test_form_errors_are_shown_next_to_their_fields(app, client, users):
    login_as(client, users["rep_a"])
    response = post_form(client, "/crm/accounts/new", {
        "person_type": "PJ", "tax_id": "11.222.333/0001-00", "legal_name": "",
        "owner_id": str(users["rep_a"]), "lifecycle": "prospect",
    })
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="tax_id"' in html and "check digits do not match" in html
    assert "The name is required." in html
    assert html.count('class="form-control is-invalid') >= 2
    with app.app_context():
        assert count_accounts() == 0


def test_duplicate_warning_links_to_the_existing_account_and_confirming_saves(
        app, client, users, make_account):
    existing = make_account(tax_id=CNPJ)
    login_as(client, users["rep_a"])
    data = {"person_type": "PJ", "tax_id": CNPJ_BRANCH, "legal_name": "Filial",
            "owner_id": str(users["rep_a"]), "lifecycle": "prospect"}
    response = post_form(client, "/crm/accounts/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'/crm/accounts/{existing}"' in html and "another branch?" in html
    assert 'name="confirm_duplicates"' in html
    response = post_form(client, "/crm/accounts/new", {**data, "confirm_duplicates": "y"})
    assert response.status_code == 303


def test_edit_with_a_stale_version_is_refused(app, client, users, make_account):
    account_id = make_account(trade_name="Old")
    login_as(client, users["rep_a"])
    url = f"/crm/accounts/{account_id}/edit"
    token = csrf_token(client, url)
    form = {"csrf_token": token, "person_type": "PJ", "legal_name": "Conta Teste Ltda.",
            "owner_id": str(users["rep_a"]), "lifecycle": "prospect", "version": "1"}
    assert client.post(url, data={**form, "trade_name": "Mine"}).status_code == 303
    response = client.post(url, data={**form, "trade_name": "Theirs"})
    assert response.status_code == 422
    assert "Someone else changed this account" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Account, account_id).trade_name == "Mine"


def test_archive_and_restore(app, client, users, make_account):
    account_id = make_account(legal_name="Arquivável")
    login_as(client, users["rep_a"])
    url = f"/crm/accounts/{account_id}/archive"
    assert post_form(client, url, {"archived": "1"}, f"/crm/accounts/{account_id}").status_code \
        == 303
    assert "Arquivável" not in client.get("/crm/accounts").get_data(as_text=True)
    assert "Arquivável" in client.get("/crm/accounts?archived=1").get_data(as_text=True)
    post_form(client, url, {"archived": "0"}, f"/crm/accounts/{account_id}")
    assert "Arquivável" in client.get("/crm/accounts").get_data(as_text=True)
    assert client.post(url, data={"archived": "1"}).status_code == 400  # no CSRF token


def test_list_filters(app, client, users, make_account):
    make_account(legal_name="Alfa Prospect")
    make_account(legal_name="Beta Cliente", lifecycle="customer", tax_id=CPF)
    make_account(legal_name="Gama Prioridade", priority=True)
    login_as(client, users["rep_a"])

    def names(query):
        html = client.get("/crm/accounts" + query).get_data(as_text=True)
        return {n for n in ("Alfa Prospect", "Beta Cliente", "Gama Prioridade") if n in html}

    assert names("") == {"Alfa Prospect", "Beta Cliente", "Gama Prioridade"}
    assert names("?lifecycle=customer") == {"Beta Cliente"}
    assert names("?priority=1") == {"Gama Prioridade"}
    assert names("?q=alfa") == {"Alfa Prospect"}
    assert names("?q=529.982") == {"Beta Cliente"}


def test_list_is_paged(app, client, users, make_account):
    app.config["ERP_PAGE_SIZE"] = 2
    try:
        for i in range(5):
            make_account(legal_name=f"Conta {i}")
        login_as(client, users["rep_a"])
        page1 = client.get("/crm/accounts").get_data(as_text=True)
        page3 = client.get("/crm/accounts?page=3").get_data(as_text=True)
        assert "Conta 0" in page1 and "Conta 1" in page1 and "Conta 2" not in page1
        assert "Conta 4" in page3 and "5 records" in page3
    finally:
        app.config["ERP_PAGE_SIZE"] = 25


def test_empty_search_offers_to_register_or_search_the_web(client, users):
    login_as(client, users["rep_a"])
    html = client.get("/crm/accounts?q=11.222.333%2F0001-81").get_data(as_text=True)
    assert "No account matches." in html
    assert "/crm/accounts/new?tax_id=11222333000181&amp;person_type=PJ" in html
    assert "google.com/search?q=11.222.333%2F0001-81" in html


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [("rep_a", {"A"}), ("rep_b", {"B"}), ("manager", {"A", "B"}), ("rep_c", {"C"}),
     ("admin", {"A", "B", "C"})],
)
def test_record_scope_on_list_search_and_page(app, client, users, make_account, viewer,
                                               visible):
    ids = {"A": make_account("rep_a", legal_name="Empresa A Scope"),
           "B": make_account("rep_b", legal_name="Empresa B Scope"),
           "C": make_account("rep_c", legal_name="Empresa C Scope")}
    login_as(client, users[viewer])
    listed = client.get("/crm/accounts").get_data(as_text=True)
    found = client.get("/search?q=scope").get_data(as_text=True)
    for key, account_id in ids.items():
        name = f"Empresa {key} Scope"
        assert (name in listed) == (key in visible), (viewer, key)
        assert (name in found) == (key in visible), (viewer, key)
        status = client.get(f"/crm/accounts/{account_id}").status_code
        assert status == (200 if key in visible else 404)
        assert client.get(f"/crm/accounts/{account_id}/edit").status_code == (
            200 if key in visible else 404)


def test_read_only_users_see_but_cannot_write(client, users, make_account):
    account_id = make_account()
    login_as(client, users["finance"])  # crm.read, not crm.write
    assert client.get(f"/crm/accounts/{account_id}").status_code == 200
    assert client.get("/crm/accounts/new").status_code == 403
    assert client.get(f"/crm/accounts/{account_id}/edit").status_code == 403
    assert "New account" not in client.get("/crm/accounts").get_data(as_text=True)


def test_user_typed_text_is_escaped(client, users, make_account):
    account_id = make_account(legal_name="<script>alert(1)</script> Ltda.")
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltda." in html
