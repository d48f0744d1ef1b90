"""Duplicate contacts warned of everywhere a contact is saved (issue 18, point 1): the
JSON API's POST and PATCH /contacts answer 409 `duplicate` listing the contacts with the
same e-mail or phone (one outside the caller's scope unnamed), saved when sent again
with `confirm_duplicates`; the account page's "Add relationship → New contact" (the
contact form with the account) warns the same way, and the confirmed contact is linked
to the account in its role."""

from __future__ import annotations

from sqlalchemy import select

from erp.db import db
from modules.crm.models import AccountContact, Contact
from tests.conftest import csrf_token, login_as
from tests.crm.api_support import Api, error_of, token_for


def test_api_create_contact_409_duplicate_then_confirmed(app, client, users, make_contact):
    ana = make_contact("rep_a", name="Ana Souza", email="ana@example.com",
                       mobile="(11) 98765-4321")
    api = Api(client, token_for(app, users["rep_a"]))
    for data in ({"email": "ana@example.com"}, {"phone": "11 98765 4321"}):
        response = api.post("/contacts", json={"name": "Ana S.", **data})
        body = error_of(response, 409, "duplicate")
        assert body["confirmable"] is True
        assert [(d["id"], d["name"], d["in_scope"]) for d in body["duplicates"]] == [
            (ana, "Ana Souza", True)]
        assert "confirm_duplicates" in body["message"]
    with app.app_context():
        assert db.session.scalar(select(Contact.id).where(Contact.name == "Ana S.")) is None
        db.session.remove()
    saved = api.post("/contacts", json={"name": "Ana S.", "email": "ana@example.com",
                                        "confirm_duplicates": True})
    assert saved.status_code == 201, saved.json
    assert "confirm_duplicates" not in saved.json
    other = api.post("/contacts", json={"name": "Bia", "email": "bia@example.com"})
    assert other.status_code == 201


def test_api_duplicate_out_of_scope_names_nobody(app, client, users, make_contact):
    make_contact("rep_c", name="Pessoa Secreta", email="secreta@example.com")
    api = Api(client, token_for(app, users["rep_a"]))
    response = api.post("/contacts", json={"name": "Nova", "email": "secreta@example.com"})
    assert error_of(response, 409, "duplicate")["duplicates"] == [{
        "id": None, "name": None, "reason": "email", "blocking": False, "owner": None,
        "in_scope": False}]


def test_api_update_contact_409_on_a_new_email_only_then_confirmed(app, client, users,
                                                                    make_contact):
    make_contact("rep_a", name="Ana", email="ana@example.com")
    bia = make_contact("rep_a", name="Bia", email="bia@example.com")
    api = Api(client, token_for(app, users["rep_a"]))
    same = api.patch(f"/contacts/{bia}", json={"name": "Bia B.", "email": "bia@example.com"})
    assert same.status_code == 200, same.json  # unchanged: nothing asked again
    taken = api.patch(f"/contacts/{bia}", json={"email": "ana@example.com"})
    assert error_of(taken, 409, "duplicate")["duplicates"][0]["reason"] == "email"
    done = api.patch(f"/contacts/{bia}", json={"email": "ana@example.com",
                                               "confirm_duplicates": True})
    assert done.status_code == 200 and done.json["email"] == "ana@example.com"


def test_add_relationship_new_contact_warns_then_links(app, client, users, make_account,
                                                       make_contact):
    account = make_account("rep_a", legal_name="Conta Relacionamentos")
    ana = make_contact("rep_a", name="Ana Souza", email="ana@example.com")
    login_as(client, users["rep_a"])
    page = client.get(f"/crm/accounts/{account}?tab=contacts").get_data(as_text=True)
    url = f"/crm/contacts/new?account_id={account}"
    assert url.replace("&", "&amp;") in page or url in page  # "Add relationship → New contact"
    form = {"csrf_token": csrf_token(client, url), "name": "Ana S.",
            "email": "ana@example.com", "role": "Compras"}
    warned = client.post(url, data=form)
    html = warned.get_data(as_text=True)
    assert warned.status_code == 422
    assert f"/crm/contacts/{ana}" in html and 'name="confirm_duplicates"' in html
    confirmed = client.post(url, data={**form, "confirm_duplicates": "y"})
    assert confirmed.status_code == 303
    assert f"/crm/accounts/{account}" in confirmed.headers["Location"]
    with app.app_context():
        link = db.session.execute(select(AccountContact).join(Contact).where(
            Contact.name == "Ana S.")).scalar_one()
        assert (link.account_id, link.role) == (account, "Compras")
        db.session.remove()
