"""Issue 19, point 6: archived and unlinked contacts respected everywhere an account's
contacts are listed, offered or counted: the Contacts tab (archived ones behind a "show
archived" toggle), its count, the page's header, the opportunity and action pickers, the
services' validation, and the API's list of an account's contacts."""

from __future__ import annotations

import re

import pytest

from erp.auth.models import User
from erp.db import db
from erp.errors import InvalidInput
from modules.crm.models import Contact, Opportunity
from modules.crm.services import contacts as contact_service
from modules.crm.services import opportunities as opportunity_service
from tests.conftest import login_as
from tests.crm.api_support import api_as


@pytest.fixture
def people(app, users, make_account, make_contact):
    """An account with Ana (active), Bruno (archived) and Carla (unlinked since)."""
    account_id = make_account(owner="rep_a", legal_name="Pessoas Ltda")
    ids = {name: make_contact(name=name, account_id=account_id, role="Compras")
           for name in ("Ana Ativa", "Bruno Arquivado", "Carla Desvinculada")}
    with app.app_context():
        contact_service.set_archived(db.session.get(Contact, ids["Bruno Arquivado"]), True)
        from modules.crm.models import Account

        contact_service.unlink_contact(db.session.get(Account, account_id),
                                       db.session.get(Contact, ids["Carla Desvinculada"]))
    return {"account": account_id, **ids}


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return re.findall(r">([^<]+)</option>", select.group(1))


def test_the_contacts_tab_and_its_count_leave_archived_and_unlinked_out(client, users,
                                                                        people):
    login_as(client, users["rep_a"])
    url = f"/crm/accounts/{people['account']}?tab=contacts"
    html = client.get(url).get_data(as_text=True)
    tab = html[html.index('<section id="contacts"'):]
    assert 'data-count="1"' in tab
    assert "Ana Ativa" in tab
    assert "Bruno Arquivado" not in html and "Carla Desvinculada" not in html
    toggle = re.search(r'<a href="([^"]+)" id="contacts-archived-toggle">([^<]+)</a>', tab)
    assert toggle and toggle.group(2) == "Show 1 archived contact"
    shown = client.get(toggle.group(1).replace("&amp;", "&")).get_data(as_text=True)
    shown_tab = shown[shown.index('<section id="contacts"'):]
    assert "Bruno Arquivado" in shown_tab and "Ana Ativa" in shown_tab
    assert "Carla Desvinculada" not in shown_tab
    assert "Hide archived contacts" in shown_tab


def test_pickers_offer_only_the_accounts_active_contacts(app, client, users, people,
                                                         pipeline):
    login_as(client, users["rep_a"])
    account = people["account"]
    new_opportunity = client.get(f"/crm/opportunities/new?account_id={account}")
    assert _options(new_opportunity.get_data(as_text=True), "contact_id") == ["—", "Ana Ativa"]
    new_action = client.get(f"/crm/actions/new?account_id={account}")
    assert [o for o in _options(new_action.get_data(as_text=True), "contact_id")
            if o not in ("—", "")] == ["Ana Ativa"]


def test_a_new_choice_of_an_archived_or_unlinked_contact_is_refused(app, users, people,
                                                                    pipeline):
    with app.test_request_context():
        user = db.session.get(User, users["rep_a"])
        base = {"title": "Negócio", "account_id": people["account"]}
        for name in ("Bruno Arquivado", "Carla Desvinculada"):
            with pytest.raises(InvalidInput) as refused:
                opportunity_service.create_opportunity({**base, "contact_id": people[name]},
                                                       user=user)
            assert "contact_id" in refused.value.errors
        created = opportunity_service.create_opportunity(
            {**base, "contact_id": people["Ana Ativa"]}, user=user)
        assert created.contact_id == people["Ana Ativa"]


def test_an_opportunity_keeps_its_contact_archived_since(app, client, users, people,
                                                         pipeline):
    with app.test_request_context():
        user = db.session.get(User, users["rep_a"])
        opportunity = opportunity_service.create_opportunity(
            {"title": "Antigo", "account_id": people["account"],
             "contact_id": people["Ana Ativa"]}, user=user)
        opportunity_id = opportunity.id
        contact_service.set_archived(db.session.get(Contact, people["Ana Ativa"]), True)
        # Saved again unchanged: not a new choice, not refused.
        opportunity_service.update_opportunity(
            db.session.get(Opportunity, opportunity_id),
            {"title": "Antigo (editado)", "contact_id": people["Ana Ativa"]}, user=user)
    login_as(client, users["rep_a"])
    form = client.get(f"/crm/opportunities/{opportunity_id}/edit").get_data(as_text=True)
    assert "Ana Ativa" in _options(form, "contact_id")  # its own, still shown
    assert "Bruno Arquivado" not in _options(form, "contact_id")


def test_the_api_lists_an_accounts_active_contacts_by_default(app, client, users, people):
    api = api_as(app, client, users, "rep_a")
    listed = api.get(f"/accounts/{people['account']}/contacts")
    assert listed.status_code == 200
    assert [link["contact"]["name"] for link in listed.json["items"]] == ["Ana Ativa"]
    archived = api.get(f"/accounts/{people['account']}/contacts?archived=true")
    assert [link["contact"]["name"] for link in archived.json["items"]] == ["Bruno Arquivado"]


def test_unarchived_contacts_come_back(app, client, users, people):
    with app.app_context():
        contact_service.set_archived(db.session.get(Contact, people["Bruno Arquivado"]), False)
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{people['account']}?tab=contacts").get_data(as_text=True)
    assert 'data-count="2"' in html and "Bruno Arquivado" in html
    assert "contacts-archived-toggle" not in html
