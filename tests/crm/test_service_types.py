"""Issue 17, point 12 (crm 0020): the opportunity's "Tipo de atendimento" is the company's
configured list (seed 002): administrators keep it (name, active, order, one default), a
new opportunity suggests the default, an inactive type stays on the opportunities that
have it but is offered for no new one; by id in the API, by name in the import; the
migration turns 0015's keys and kept texts into rows, and back."""

from __future__ import annotations

from datetime import datetime

import flask_migrate
import pytest
from sqlalchemy import inspect, select, text

from erp.auth.models import User
from erp.db import db
from erp.errors import InvalidInput
from erp.imports.models import DONE
from modules.crm.models import Opportunity, ServiceType
from modules.crm.services import service_types
from modules.crm.services.opportunities import clean_opportunity
from tests.conftest import csrf_token, login_as, make_user
from tests.crm.api_support import api_as
from tests.crm.test_stage_history_migration import insert_account
from tests.erp.importing import (
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
)

T0 = datetime(2026, 3, 2, 12)
ADMIN = "/admin/crm_service_type/"
BUILT_IN = ["Acompanhamento de vendas", "Primeiro contato", "Demonstração", "Visita",
            "Proposta", "Negociação", "Pós-venda", "Outro"]


def type_ids(app) -> dict[str, int]:
    with app.app_context():
        ids = {t.name: t.id for t in service_types.service_types()}
        db.session.remove()
    return ids


def set_type(app, name: str, **values) -> None:
    with app.app_context():
        found = db.session.scalar(select(ServiceType).where(ServiceType.name == name))
        for key, value in values.items():
            setattr(found, key, value)
        db.session.commit()


def selected(html: str, name: str = "service_type_id") -> str | None:
    """The value of the select's selected option ("" for the blank one)."""
    import re

    select_html = html[html.index(f'name="{name}"'):]
    select_html = select_html[:select_html.index("</select>")]
    found = re.search(r'<option selected value="([^"]*)"', select_html)
    return found.group(1) if found else None


def options(html: str, name: str = "service_type_id") -> list[str]:
    import re

    select_html = html[html.index(f'name="{name}"'):]
    select_html = select_html[:select_html.index("</select>")]
    return re.findall(r'<option(?: selected)? value="[^"]*">([^<]*)</option>', select_html)


# --- The migration ----------------------------------------------------------------------------

# At 0019: 0015's key, and the text 0015 kept with "other".
LEGACY = {1: ("sales", None), 2: ("demonstration", None), 3: ("other", None),
          4: ("other", "Suporte técnico legado"), 5: ("other", "SUPORTE TECNICO LEGADO"),
          6: ("other", "Treinamento"), 7: (None, None), 8: ("post_sale", None)}


def test_the_keys_and_kept_texts_become_rows_and_come_back(make_app, empty_database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        for revision in ("erp@head", "0019_crm_external_reference"):
            flask_migrate.upgrade(revision=revision)
        owner = make_user("migrator20", [])
        db.session.commit()
        owner_id = owner.id
        db.session.remove()
        with db.engine.begin() as conn:
            account = insert_account(conn, owner_id, "Tipos Ltda.")
            stage = conn.execute(text("SELECT min(id) FROM crm_stage")).scalar()
            for opp, (key, other) in LEGACY.items():
                conn.execute(text(
                    "INSERT INTO crm_opportunity (id, title, account_id, stage_id, owner_id,"
                    " status, priority, estimated_value, archived, stage_entered_at, version,"
                    " created_at, updated_at, service_type, service_type_other) VALUES"
                    " (:id, 'Op', :account, :stage, :owner, 'open', false, 0, false, :at, 1,"
                    " :at, :at, :key, :other)"),
                    {"id": opp, "account": account.id, "stage": stage, "owner": owner_id,
                     "at": T0, "key": key, "other": other})

        flask_migrate.upgrade(revision="0020_crm_service_types")
        with db.engine.begin() as conn:
            rows = conn.execute(text(
                "SELECT id, name, active, position, is_default FROM crm_service_type"
                " ORDER BY position")).all()
            by_id = {row.id: row for row in rows}
            names = [row.name for row in rows]
            assert names[:8] == BUILT_IN
            assert [bool(row.active) for row in rows] == [True] * 8 + [False, False]
            assert [row.name for row in rows if row.is_default] == [
                "Acompanhamento de vendas"]
            assert names[8] in ("Suporte técnico legado", "SUPORTE TECNICO LEGADO")
            assert names[9] == "Treinamento"
            migrated = dict(conn.execute(text(
                "SELECT id, service_type_id FROM crm_opportunity")).all())
            named = {opp: by_id[type_id].name if type_id else None
                     for opp, type_id in migrated.items()}
            assert named == {1: "Acompanhamento de vendas", 2: "Demonstração", 3: "Outro",
                             4: names[8], 5: names[8], 6: "Treinamento", 7: None,
                             8: "Pós-venda"}
            # A type made after the migration takes the next id (PostgreSQL's sequence).
            conn.execute(text(
                "INSERT INTO crm_service_type (name, active, position, is_default)"
                " VALUES ('Implantação', true, 500, false)"))
            new_id = conn.execute(text(
                "SELECT id FROM crm_service_type WHERE name = 'Implantação'")).scalar()
            assert new_id == 11
            conn.execute(text("UPDATE crm_opportunity SET service_type_id = :id WHERE id = 7"),
                         {"id": new_id})
            # The database refuses to delete a type in use.
        with pytest.raises(Exception, match="(?i)foreign key"), db.engine.begin() as conn:
            conn.execute(text("DELETE FROM crm_service_type WHERE id = :id"), {"id": new_id})
        columns = {c["name"] for c in inspect(db.engine).get_columns("crm_opportunity")}
        assert "service_type_id" in columns
        assert not {"service_type", "service_type_other"} & columns

        flask_migrate.downgrade(revision="0019_crm_external_reference")
        with db.engine.connect() as conn:
            back = {row.id: (row.service_type, row.service_type_other) for row in conn.execute(
                text("SELECT id, service_type, service_type_other FROM crm_opportunity"))}
        assert back == {1: ("sales", None), 2: ("demonstration", None), 3: ("other", None),
                        4: ("other", names[8]), 5: ("other", names[8]),
                        6: ("other", "Treinamento"), 7: ("other", "Implantação"),
                        8: ("post_sale", None)}
        inspector = inspect(db.engine)
        assert "crm_service_type" not in inspector.get_table_names()
        assert "service_type_id" not in {
            c["name"] for c in inspector.get_columns("crm_opportunity")}
        flask_migrate.upgrade(revision="0020_crm_service_types")  # and up again
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM crm_service_type")).scalar() == 11
        db.session.remove()
        db.engine.dispose()


# --- The service ------------------------------------------------------------------------------


def test_an_opportunity_takes_an_active_type_or_keeps_its_own(app, users, pipeline,
                                                              make_account, make_opportunity):
    ids = type_ids(app)
    account_id = make_account(owner="rep_a")
    kept = make_opportunity(account_id, service_type_id=ids["Demonstração"])
    set_type(app, "Demonstração", active=False)
    with app.test_request_context():
        user = db.session.get(User, users["rep_a"])
        base = {"title": "T", "account_id": account_id}
        assert clean_opportunity({**base, "service_type_id": str(ids["Visita"])},
                                 user=user)["service_type_id"] == ids["Visita"]
        assert clean_opportunity({**base, "service_type_id": ""},
                                 user=user)["service_type_id"] is None
        for wrong in (ids["Demonstração"], 99999, "Visita", -1):
            with pytest.raises(InvalidInput) as refused:
                clean_opportunity({**base, "service_type_id": wrong}, user=user)
            assert "service_type_id" in refused.value.errors, wrong
        current = db.session.get(Opportunity, kept)
        assert clean_opportunity({"service_type_id": ids["Demonstração"]}, user=user,
                                 current=current)["service_type_id"] == ids["Demonstração"]
        assert service_types.by_name("  demonstracao ").id == ids["Demonstração"]
        assert service_types.by_name("POS-VENDA").id == ids["Pós-venda"]
        assert service_types.by_name("Suporte") is None


# --- The web forms ----------------------------------------------------------------------------


def test_a_new_opportunity_suggests_the_default_type(app, client, users, pipeline,
                                                     make_account):
    ids = type_ids(app)
    account_id = make_account(owner="rep_a")
    login_as(client, users["rep_a"])
    url = f"/crm/opportunities/new?account_id={account_id}"
    html = client.get(url, headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert selected(html) == str(ids["Acompanhamento de vendas"])
    assert options(html) == ["—", *BUILT_IN]
    with app.app_context():  # the administrator makes another one the default
        visit = db.session.get(ServiceType, ids["Visita"])
        visit.is_default = True
        service_types.check(visit)
        db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert selected(html) == str(ids["Visita"])
    set_type(app, "Visita", is_default=False)  # none: the blank choice
    assert selected(client.get(url).get_data(as_text=True)) in (None, "")


def test_an_inactive_type_stays_on_edit_but_is_not_offered_for_new(
        app, client, users, pipeline, make_account, make_opportunity):
    ids = type_ids(app)
    account_id = make_account(owner="rep_a")
    opportunity_id = make_opportunity(account_id, title="Com demo",
                                      service_type_id=ids["Demonstração"])
    set_type(app, "Demonstração", active=False)
    login_as(client, users["rep_a"])
    pt = {"Accept-Language": "pt-BR"}
    edit = client.get(f"/crm/opportunities/{opportunity_id}/edit", headers=pt
                      ).get_data(as_text=True)
    assert selected(edit) == str(ids["Demonstração"])
    assert "Demonstração (inativo)" in options(edit)
    new = client.get(f"/crm/opportunities/new?account_id={account_id}", headers=pt
                     ).get_data(as_text=True)
    assert not [o for o in options(new) if o.startswith("Demonstração")]
    # Saved unchanged, it keeps its type; another type is taken; the inactive one is
    # refused for a new opportunity.
    response = client.post(f"/crm/opportunities/{opportunity_id}/edit", data={
        "csrf_token": csrf_token(client, f"/crm/opportunities/{opportunity_id}/edit"),
        "title": "Com demo", "account_id": account_id,
        "stage_id": pipeline["stages"]["Prospecção"], "owner_id": users["rep_a"],
        "service_type_id": ids["Demonstração"], "version": 1})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    new_url = f"/crm/opportunities/new?account_id={account_id}"
    refused = client.post(new_url, data={
        "csrf_token": csrf_token(client, new_url), "title": "Nova", "account_id": account_id,
        "stage_id": pipeline["stages"]["Prospecção"], "owner_id": users["rep_a"],
        "service_type_id": ids["Demonstração"]})
    assert refused.status_code in (200, 422)
    assert "Choose an active service type from the list." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Opportunity, opportunity_id).service_type_id == ids[
            "Demonstração"]
        assert db.session.scalar(select(Opportunity).filter_by(title="Nova")) is None
        db.session.remove()


# --- Administration ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep_a", "manager"])
def test_only_administrators_keep_the_list(client, users, who):
    assert client.get(ADMIN).status_code == 302  # anonymous: to the login
    login_as(client, users[who])
    assert client.get(ADMIN).status_code == 403
    assert client.get(f"{ADMIN}new/").status_code == 403


def admin_post(client, path: str, **form):
    return client.post(f"{ADMIN}{path}", data={"csrf_token": csrf_token(client, f"{ADMIN}new/"),
                                               **form}, follow_redirects=True)


def test_administrators_add_rename_reorder_and_deactivate_types(app, client, users,
                                                                 pipeline):
    login_as(client, users["admin"])
    listing = client.get(ADMIN).get_data(as_text=True)
    assert all(name in listing for name in BUILT_IN)
    added = admin_post(client, "new/", name="  Implantação ", position="15", active="y",
                       is_default="y")
    assert added.status_code == 200
    ids = type_ids(app)
    assert "Implantação" in ids  # trimmed
    with app.app_context():  # the one default now; the list in its order
        assert [t.name for t in service_types.service_types() if t.is_default] == [
            "Implantação"]
        assert [t.name for t in service_types.service_types()][:2] == [
            "Acompanhamento de vendas", "Implantação"]
        db.session.remove()
    for name, message in (("visita", "There is already a service type named visita."),
                          ("DEMONSTRACAO", "There is already a service type named"),
                          ("   ", "Give the service type a name")):
        refused = admin_post(client, "new/", name=name, position="1", active="y")
        assert message in refused.get_data(as_text=True), name
    refused = admin_post(client, "new/", name="Suporte", position="1", is_default="y")
    assert "The default service type must be active." in refused.get_data(as_text=True)
    assert set(type_ids(app)) == {*BUILT_IN, "Implantação"}
    renamed = admin_post(client, f"edit/?id={ids['Outro']}", name="Outros assuntos",
                         position="90")  # active unchecked: deactivated
    assert renamed.status_code == 200
    with app.app_context():
        other = db.session.get(ServiceType, ids["Outro"])
        assert (other.name, other.position, other.active) == ("Outros assuntos", 90, False)
        db.session.remove()


def test_a_type_in_use_is_deactivated_not_deleted(app, client, users, pipeline, make_account,
                                                  make_opportunity):
    ids = type_ids(app)
    make_opportunity(make_account(owner="rep_a"), service_type_id=ids["Visita"])
    login_as(client, users["admin"])
    refused = admin_post(client, "delete/", id=ids["Visita"], url=ADMIN)
    assert "“Visita” is the service type of opportunities: deactivate it instead of " \
           "deleting it." in refused.get_data(as_text=True)
    deleted = admin_post(client, "delete/", id=ids["Proposta"], url=ADMIN)
    assert deleted.status_code == 200
    assert "Visita" in type_ids(app) and "Proposta" not in type_ids(app)


# --- The API ----------------------------------------------------------------------------------


def test_the_api_lists_the_types_and_takes_one_by_id(app, client, users, pipeline,
                                                     make_account):
    ids = type_ids(app)
    set_type(app, "Negociação", active=False)
    account_id = make_account("rep_a")
    api = api_as(app, client, users, "rep_a")
    listed = api.get("/service-types")
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json] == BUILT_IN
    assert [t["name"] for t in listed.json if t["is_default"]] == ["Acompanhamento de vendas"]
    assert [t["name"] for t in listed.json if not t["active"]] == ["Negociação"]
    created = api.post("/opportunities", json={"title": "Visita técnica",
                                               "account_id": account_id,
                                               "service_type_id": ids["Visita"]})
    assert created.status_code == 201, created.json
    assert created.json["service_type_id"] == ids["Visita"]
    for wrong in (ids["Negociação"], 99999, "Visita", 0):
        refused = api.post("/opportunities", json={"title": "X", "account_id": account_id,
                                                   "service_type_id": wrong})
        assert refused.status_code == 422, (wrong, refused.json)
    cleared = api.patch(f"/opportunities/{created.json['id']}",
                        json={"service_type_id": None, "version": created.json["version"]})
    assert cleared.status_code == 200, cleared.json
    assert cleared.json["service_type_id"] is None


# --- The import -------------------------------------------------------------------------------


@pytest.mark.usefixtures("import_dir")
def test_the_import_maps_names_to_types_and_reports_unknown_ones(app, users, pipeline,
                                                                 make_account):
    import csv
    import io

    ids = type_ids(app)
    set_type(app, "Negociação", active=False)
    cnpj = make_cnpj(11222333)
    make_account("rep_a", legal_name="Acme Ltda", tax_id=cnpj)
    content = csv_bytes([["Título", "Conta", "Tipo de atendimento"],
                         ["Um", cnpj, "demonstracao"], ["Dois", cnpj, "  VISITA "],
                         ["Três", cnpj, ""], ["Quatro", cnpj, "Suporte"],
                         ["Cinco", cnpj, "negociacao"]])
    result = run_import(app, users["rep_a"], "opportunities", content, skip_invalid=True)
    assert (result.status, result.created, result.rejected) == (DONE, 3, 2)
    reasons = [r["reason"] for r in csv.DictReader(io.StringIO(result.rejects), delimiter=";")]
    assert "Service type: no service type named Suporte (service types: Acompanhamento" \
           in reasons[0]
    assert "Negociação" not in reasons[0]  # the inactive ones are not offered
    assert "Choose an active service type from the list." in reasons[1]
    with app.app_context():
        got = dict(db.session.execute(select(Opportunity.title, Opportunity.service_type_id)
                                      ).all())
        db.session.remove()
    assert got == {"Um": ids["Demonstração"], "Dois": ids["Visita"], "Três": None}
    with app.app_context():  # no type was added by the import
        assert len(service_types.service_types()) == len(BUILT_IN)
        db.session.remove()
