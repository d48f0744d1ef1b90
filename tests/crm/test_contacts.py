"""Contacts and relationships: a contact works with several accounts, each in a role."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from erp.db import db
from modules.crm.models import AccountContact, Contact
from tests.conftest import csrf_token, login_as


def roles_on(html: str, table_id: str) -> list[str]:
    table = html[html.index(f'id="{table_id}"'):]
    table = table[: table.index("</table>")]
    return [r.strip() for r in re.findall(r'class="contact-role">([^<]*)<', table)]


def test_contact_with_two_accounts_shows_roles_on_both_pages(client, users, make_account,
                                                             make_contact):
    alfa = make_account(legal_name="Alfa Ltda.")
    beta = make_account(legal_name="Beta Ltda.")
    joana = make_contact(name="Joana Prado", account_id=alfa, role="Compras")
    login_as(client, users["rep_a"])
    token = csrf_token(client, f"/crm/accounts/{beta}")
    response = client.post(f"/crm/accounts/{beta}/contacts",
                           data={"csrf_token": token, "contact_id": joana,
                                 "role": "Diretora financeira"})
    assert response.status_code == 303

    alfa_page = client.get(f"/crm/accounts/{alfa}?tab=contacts").get_data(as_text=True)
    beta_page = client.get(f"/crm/accounts/{beta}?tab=contacts").get_data(as_text=True)
    assert "Joana Prado" in alfa_page and roles_on(alfa_page, "account-contacts") == ["Compras"]
    assert roles_on(beta_page, "account-contacts") == ["Diretora financeira"]
    contact_page = client.get(f"/crm/contacts/{joana}").get_data(as_text=True)
    assert "Alfa Ltda." in contact_page and "Beta Ltda." in contact_page
    assert roles_on(contact_page, "contact-accounts") == ["Compras", "Diretora financeira"]


def test_linking_again_changes_the_role(app, client, users, make_account, make_contact):
    alfa = make_account()
    joana = make_contact(name="Joana", account_id=alfa, role="Compras")
    login_as(client, users["rep_a"])
    token = csrf_token(client, f"/crm/accounts/{alfa}")
    client.post(f"/crm/accounts/{alfa}/contacts",
                data={"csrf_token": token, "contact_id": joana, "role": "Sócia"})
    with app.app_context():
        links = db.session.scalars(select(AccountContact)).all()
        assert [(link.account_id, link.role) for link in links] == [(alfa, "Sócia")]


def test_find_an_existing_contact_then_link_it(client, users, make_account, make_contact):
    alfa = make_account()
    make_contact(name="Roberto Lima", email="roberto@exemplo.com.br")
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{alfa}?tab=contacts&contact_q=roberto").get_data(as_text=True)
    assert "Roberto Lima" in html and 'class="row g-2 align-items-center mb-1 candidate"' in html


def test_new_contact_from_the_account_page_is_linked_with_its_role(app, client, users,
                                                                  make_account):
    alfa = make_account()
    login_as(client, users["rep_a"])
    url = f"/crm/contacts/new?account_id={alfa}"
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "name": "Carla Souza",
                                      "mobile": "(11) 91111-2222", "role": "TI",
                                      "account_id": alfa})
    assert response.status_code == 303
    assert response.location == f"/crm/accounts/{alfa}?tab=contacts"
    html = client.get(response.location).get_data(as_text=True)
    assert "Carla Souza" in html and roles_on(html, "account-contacts") == ["TI"]


def test_bad_contact_input_stays_in_the_form(app, client, users):
    login_as(client, users["rep_a"])
    token = csrf_token(client, "/crm/contacts/new")
    response = client.post("/crm/contacts/new", data={"csrf_token": token, "name": "",
                                                      "email": "nope"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The name is required." in html and "Invalid e-mail address" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Contact.id))) == 0


def test_unlink_keeps_the_contact(app, client, users, make_account, make_contact):
    alfa = make_account()
    joana = make_contact(name="Joana", account_id=alfa, role="Compras")
    login_as(client, users["rep_a"])
    token = csrf_token(client, f"/crm/accounts/{alfa}")
    response = client.post(f"/crm/accounts/{alfa}/contacts/{joana}/remove",
                           data={"csrf_token": token})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(AccountContact.account_id))) == 0
        assert db.session.get(Contact, joana) is not None


def test_contact_scope(client, users, make_account, make_contact):
    b_account = make_account("rep_b", legal_name="Empresa do Bruno")
    bruno_contact = make_contact("rep_b", name="Contato do Bruno", account_id=b_account,
                                 role="Sócio")
    login_as(client, users["rep_a"])
    assert client.get(f"/crm/contacts/{bruno_contact}").status_code == 404
    assert "Contato do Bruno" not in client.get("/crm/contacts").get_data(as_text=True)
    login_as(client, users["manager"])
    assert client.get(f"/crm/contacts/{bruno_contact}").status_code == 200


def test_contact_linked_to_a_visible_account_is_visible(client, users, make_account,
                                                       make_contact):
    a_account = make_account("rep_a", legal_name="Empresa da Ana")
    created_by_bruno = make_contact("rep_b", name="Pessoa Compartilhada")
    login_as(client, users["rep_b"])
    token = csrf_token(client, f"/crm/contacts/{created_by_bruno}")
    # Bruno cannot link to Ana's account: it is outside his scope.
    response = client.post(f"/crm/accounts/{a_account}/contacts",
                           data={"csrf_token": token, "contact_id": created_by_bruno})
    assert response.status_code == 404
    login_as(client, users["manager"])
    token = csrf_token(client, f"/crm/contacts/{created_by_bruno}")
    client.post(f"/crm/accounts/{a_account}/contacts",
                data={"csrf_token": token, "contact_id": created_by_bruno, "role": "TI"})
    login_as(client, users["rep_a"])
    assert client.get(f"/crm/contacts/{created_by_bruno}").status_code == 200
