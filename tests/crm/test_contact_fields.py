"""Issue 17, point 12 (crm 0015): the contact's "Sistema atual" (seed 002) and the
opportunity's "Tipo de atendimento" as a list (0015: a key, free text typed before the list
kept as "other" with its text; since crm 0020 the company's configured list, by id:
tests/crm/test_service_types.py), on the web form and the API, and 0015's migration of the
existing free text both ways."""

from __future__ import annotations

from datetime import datetime

import flask_migrate
from sqlalchemy import inspect, text

from erp.db import db
from modules.crm.models import Contact, Opportunity
from modules.crm.services.service_types import by_name
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


# --- The web forms ------------------------------------------------------------------------------


def service_type_ids(app) -> dict[str, int]:
    with app.app_context():
        ids = {name: by_name(name).id for name in ("Demonstração", "Outro")}
        db.session.remove()
    return ids


def test_the_opportunity_form_offers_the_list_and_the_page_shows_it(app, client, users,
                                                                  pipeline, make_account,
                                                                  make_opportunity):
    types = service_type_ids(app)
    account_id = make_account(owner="rep_a")
    opportunity_id = make_opportunity(account_id, service_type_id=types["Demonstração"])
    login_as(client, users["rep_a"])
    form = client.get(f"/crm/opportunities/{opportunity_id}/edit",
                      headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert '<select class="form-select' in form and 'name="service_type_id"' in form
    assert (f'<option selected value="{types["Demonstração"]}">Demonstração</option>'
            in form)
    assert 'name="service_type_other"' not in form  # "Outro" is one of the list
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        opportunity.service_type_id = types["Outro"]
        db.session.commit()
    page = client.get(f"/crm/opportunities/{opportunity_id}",
                      headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert "<dd class=\"col-7\">Outro</dd>" in page


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


def test_the_api_takes_the_service_type_id_and_the_current_system(app, client, users,
                                                                   pipeline, make_account):
    types = service_type_ids(app)
    account_id = make_account("rep_a")
    api = api_as(app, client, users, "rep_a")
    created = api.post("/opportunities", json={"title": "Demo", "account_id": account_id,
                                               "service_type_id": types["Demonstração"]})
    assert created.status_code == 201, created.json
    assert created.json["service_type_id"] == types["Demonstração"]
    assert "service_type" not in created.json and "service_type_other" not in created.json
    refused = api.post("/opportunities", json={"title": "X", "account_id": account_id,
                                               "service_type": "Demonstração"})
    assert refused.status_code == 422  # by id, as stage_id and owner_id
    contact = api.post("/contacts", json={"name": "Davi", "current_system": "Omie"})
    assert contact.status_code == 201, contact.json
    assert contact.json["current_system"] == "Omie"
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    typed = [s["properties"]["service_type_id"] for s in schemas.values()
             if "service_type_id" in s.get("properties", {})]
    assert typed and all(t.get("type") == "integer" or "integer" in t.get("type", [])
                         for t in typed)
    assert "/api/v1/service-types" in document["paths"]
