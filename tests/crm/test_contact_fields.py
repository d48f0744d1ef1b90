"""Issue 17, point 12 (crm 0015): the contact's "Sistema atual" (seed 002) and the
opportunity's "Tipo de atendimento" as a list (a key, shown translated; free text typed
before the list kept as "other" with its text), on the web form, the API and the import,
and the migration of the existing free text both ways."""

from __future__ import annotations

from datetime import datetime

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from erp.auth.models import User
from erp.db import db
from erp.errors import InvalidInput
from modules.crm.models import Contact, Opportunity
from modules.crm.services.opportunities import clean_opportunity, service_type_of
from tests.conftest import csrf_token, login_as, make_user
from tests.crm.api_support import api_as
from tests.crm.test_stage_history_migration import insert_account

T0 = datetime(2026, 3, 2, 12)


# --- The migration ----------------------------------------------------------------------------

TYPED = {1: "Demonstração", 2: "demo", 3: "  VISITA ", 4: "Suporte técnico legado",
         5: None, 6: "other", 7: "Pós venda", 8: "sales"}


def test_the_typed_service_types_are_migrated_and_back(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "0014_crm_funnel_cycle"):
            flask_migrate.upgrade(revision=revision)
        owner = make_user("migrator15", [])
        db.session.commit()
        owner_id = owner.id
        db.session.remove()
        with db.engine.begin() as conn:
            account = insert_account(conn, owner_id, "Tipos Ltda.")
            stage = conn.execute(text("SELECT min(id) FROM crm_stage")).scalar()
            for opp, typed in TYPED.items():
                conn.execute(text(
                    "INSERT INTO crm_opportunity (id, title, account_id, stage_id, owner_id,"
                    " status, priority, estimated_value, archived, stage_entered_at, version,"
                    " created_at, updated_at, service_type) VALUES (:id, 'Op', :account,"
                    " :stage, :owner, 'open', false, 0, false, :at, 1, :at, :at, :typed)"),
                    {"id": opp, "account": account.id, "stage": stage, "owner": owner_id,
                     "at": T0, "typed": typed})
            conn.execute(text(
                "INSERT INTO crm_contact (id, name, owner_id, archived, search_text, version,"
                " created_at, updated_at) VALUES (1, 'Bia', :owner, false, 'bia', 1, :at,"
                " :at)"), {"owner": owner_id, "at": T0})
        flask_migrate.upgrade(revision="0015_crm_contact_fields")
        with db.engine.connect() as conn:
            migrated = {row.id: (row.service_type, row.service_type_other) for row in conn.execute(
                text("SELECT id, service_type, service_type_other FROM crm_opportunity"))}
            assert conn.execute(text("SELECT current_system FROM crm_contact")).scalar() is None
        assert migrated == {
            1: ("demonstration", None), 2: ("demonstration", None), 3: ("visit", None),
            4: ("other", "Suporte técnico legado"), 5: (None, None), 6: ("other", None),
            7: ("post_sale", None), 8: ("sales", None)}

        flask_migrate.downgrade(revision="0014_crm_funnel_cycle")
        with db.engine.connect() as conn:
            back = dict(conn.execute(text("SELECT id, service_type FROM crm_opportunity")).all())
        assert back == {1: "Demonstração", 2: "Demonstração", 3: "Visita",
                        4: "Suporte técnico legado", 5: None, 6: "Outro", 7: "Pós-venda",
                        8: "Acompanhamento de vendas"}
        inspector = inspect(db.engine)
        assert "current_system" not in {c["name"] for c in inspector.get_columns("crm_contact")}
        assert "service_type_other" not in {
            c["name"] for c in inspector.get_columns("crm_opportunity")}
        db.session.remove()
        db.engine.dispose()


# --- The service ------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "key"), [
    ("demonstration", "demonstration"), ("Demonstração", "demonstration"),
    ("DEMONSTRACAO", "demonstration"), ("Visit", "visit"), ("Pós-venda", "post_sale"),
    ("", None), (None, None)])
def test_a_service_type_is_known_by_key_or_by_name(app, typed, key):
    with app.test_request_context():
        assert service_type_of(typed) == key


def test_the_service_keeps_other_text_only_with_other(app, users, pipeline, make_account):
    account_id = make_account(owner="rep_a")
    with app.test_request_context():
        user = db.session.get(User, users["rep_a"])
        base = {"title": "T", "account_id": account_id}
        out = clean_opportunity({**base, "service_type": "other",
                                 "service_type_other": "Suporte legado"}, user=user)
        assert (out["service_type"], out["service_type_other"]) == ("other", "Suporte legado")
        out = clean_opportunity({**base, "service_type": "visit",
                                 "service_type_other": "ignored"}, user=user)
        assert (out["service_type"], out["service_type_other"]) == ("visit", None)
        out = clean_opportunity({**base, "service_type": "",
                                 "service_type_other": "Só texto"}, user=user)
        assert (out["service_type"], out["service_type_other"]) == ("other", "Só texto")
        with pytest.raises(InvalidInput) as refused:
            clean_opportunity({**base, "service_type": "Suporte"}, user=user)
        assert "service_type" in refused.value.errors


# --- The web forms ------------------------------------------------------------------------------


def test_the_opportunity_form_offers_the_list_and_the_page_shows_it(app, client, users,
                                                                  pipeline, make_account,
                                                                  make_opportunity):
    account_id = make_account(owner="rep_a")
    opportunity_id = make_opportunity(account_id, service_type="demonstration")
    login_as(client, users["rep_a"])
    form = client.get(f"/crm/opportunities/{opportunity_id}/edit",
                      headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert '<select class="form-select' in form and 'name="service_type"' in form
    assert '<option selected value="demonstration">Demonstração</option>' in form
    assert 'name="service_type_other"' in form
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        opportunity.service_type, opportunity.service_type_other = "other", "Suporte legado"
        db.session.commit()
    page = client.get(f"/crm/opportunities/{opportunity_id}",
                      headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert "Outro: Suporte legado" in page


def test_the_contact_form_saves_the_current_system(app, client, users):
    login_as(client, users["rep_a"])
    response = client.post("/crm/contacts/new", data={
        "csrf_token": csrf_token(client, "/crm/contacts/new"), "name": "Carla Sistema",
        "current_system": "Bimer ERP", "email": "carla@example.com"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:3000]
    with app.app_context():
        contact = db.session.query(Contact).filter_by(name="Carla Sistema").one()
        assert contact.current_system == "Bimer ERP"
        contact_id = contact.id
    page = client.get(f"/crm/contacts/{contact_id}", headers={"Accept-Language": "pt-BR"})
    body = page.get_data(as_text=True)
    assert "Sistema atual" in body and "Bimer ERP" in body


# --- The API ----------------------------------------------------------------------------------


def test_the_api_takes_the_service_type_key_and_the_current_system(app, client, users,
                                                                    pipeline, make_account):
    account_id = make_account("rep_a")
    api = api_as(app, client, users, "rep_a")
    created = api.post("/opportunities", json={"title": "Demo", "account_id": account_id,
                                               "service_type": "demonstration"})
    assert created.status_code == 201, created.json
    assert created.json["service_type"] == "demonstration"
    assert created.json["service_type_other"] is None
    refused = api.post("/opportunities", json={"title": "X", "account_id": account_id,
                                               "service_type": "Demonstração"})
    assert refused.status_code == 422  # the API's list is the keys (an enum)
    contact = api.post("/contacts", json={"name": "Davi", "current_system": "Omie"})
    assert contact.status_code == 201, contact.json
    assert contact.json["current_system"] == "Omie"
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    enums = [s["properties"]["service_type"].get("enum") for s in schemas.values()
             if "service_type" in s.get("properties", {})]
    assert enums and all(e and "demonstration" in e and "other" in e for e in enums if e)
