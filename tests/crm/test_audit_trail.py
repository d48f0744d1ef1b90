"""CRM's audited records — accounts, contacts, opportunities: creation, change and deletion
leave entries with the right user and values, the account page's History tab and the
opportunity and contact pages show them to whoever sees the record, and an import's rows
are recorded as its user's, in one INSERT per batch."""

from __future__ import annotations

from sqlalchemy import event, select

from erp.audit import AuditEntry, acting_as
from erp.auth.models import User
from erp.db import db
from modules.crm.models import Account, Contact, Opportunity
from modules.crm.services.bulk import bulk_apply
from modules.crm.services.contacts import update_contact
from modules.crm.services.opportunities import mark_lost, update_opportunity
from tests.conftest import login_as
from tests.crm.api_support import api_as
from tests.erp.importing import (
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
)


def entries(table: str, record_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.table_name == table).order_by(AuditEntry.id)
    if record_id is not None:
        query = query.where(AuditEntry.record_id == str(record_id))
    return db.session.scalars(query).all()


def user(users, name: str) -> User:
    return db.session.get(User, users[name])


# --- accounts ------------------------------------------------------------------------------


def test_an_account_created_and_changed_through_the_api_names_the_token_user(app, client,
                                                                             users):
    api = api_as(app, client, users, "rep_a")
    created = api.post("/accounts", json={"legal_name": "Trilha Ltda.", "city": "Recife",
                                          "priority": True})
    assert created.status_code == 201, created.json
    account_id = created.json["id"]
    changed = api.patch(f"/accounts/{account_id}", json={"version": 1, "city": "Olinda",
                                                         "trade_name": "Trilha"})
    assert changed.status_code == 200, changed.json
    with app.app_context():
        create, update = entries("crm_account", account_id)
        assert (create.action, create.user_id, create.user_name) == (
            "create", users["rep_a"], "Rep_A")
        assert create.changes["legal_name"] == [None, "Trilha Ltda."]
        assert create.changes["owner_id"] == [None, str(users["rep_a"])]
        assert create.changes["priority"] == [None, "true"]
        assert "search_text" not in create.changes and "version" not in create.changes
        assert (update.action, update.user_id) == ("update", users["rep_a"])
        assert update.changes == {"city": ["Recife", "Olinda"], "trade_name": [None, "Trilha"]}
        assert update.record_label == "Trilha"


def test_an_account_deleted_keeps_its_history(app, users, make_account):
    account_id = make_account(legal_name="Efêmera Ltda.", city="Natal")
    with app.app_context():
        with acting_as(user(users, "manager")):
            db.session.delete(db.session.get(Account, account_id))
            db.session.commit()
        assert db.session.get(Account, account_id) is None
        create, delete = entries("crm_account", account_id)
        assert create.action == "create"
        assert (delete.action, delete.user_name, delete.record_label) == (
            "delete", "Manager", "Efêmera Ltda.")
        assert delete.changes["city"] == ["Natal", None]
        assert delete.changes["legal_name"] == ["Efêmera Ltda.", None]


def test_the_history_tab_shows_the_changes_to_those_who_see_the_account(app, client, users,
                                                                        make_account):
    account_id = make_account(owner="rep_b", legal_name="Visível Ltda.")
    with app.app_context(), acting_as(user(users, "manager")):
        account = db.session.get(Account, account_id)
        account.lifecycle, account.owner_id = "customer", users["rep_a"]  # handed over
        db.session.commit()
    login_as(client, users["rep_a"])
    page = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert 'data-tab="history"' in page
    tab = client.get(f"/crm/accounts/{account_id}/tabs/history")
    html = tab.get_data(as_text=True)
    assert tab.status_code == 200 and 'id="history"' in html
    # Labels, coded values and referenced records by name; the user who did it.
    assert "Lifecycle" in html and "Prospect" in html and "Customer" in html
    assert "Owner" in html and "Rep_B" in html and "Rep_A" in html and "Manager" in html
    assert html.count('data-audit-action="update"') == 1
    assert html.count('data-audit-action="create"') == 1
    full = client.get(f"/crm/accounts/{account_id}?tab=history").get_data(as_text=True)
    assert 'id="history-entries"' in full
    # Another team's rep: the account, its tab and its history are not there.
    login_as(client, users["rep_c"])
    assert client.get(f"/crm/accounts/{account_id}/tabs/history").status_code == 404
    assert client.get(f"/crm/accounts/{account_id}?tab=history").status_code == 404


# --- contacts ------------------------------------------------------------------------------


def test_a_contacts_creation_change_and_deletion(app, client, users, make_contact):
    contact_id = make_contact(owner="rep_a", name="Ana Souza", email="ana@cliente.example")
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        with acting_as(user(users, "rep_b")):
            update_contact(contact, {"position": "Compradora", "email": "ana@novo.example"})
    login_as(client, users["rep_a"])
    page = client.get(f"/crm/contacts/{contact_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="history"' in html
    assert "Compradora" in html and "ana@novo.example" in html and "Rep_B" in html
    login_as(client, users["rep_c"])
    assert client.get(f"/crm/contacts/{contact_id}").status_code == 404
    with app.app_context():
        with acting_as(user(users, "manager")):
            db.session.delete(db.session.get(Contact, contact_id))
            db.session.commit()
        create, update, delete = entries("crm_contact", contact_id)
        assert create.user_id is None  # made by the fixture, outside any request
        assert create.changes["name"] == [None, "Ana Souza"]
        assert (update.user_name, update.changes) == ("Rep_B", {
            "position": [None, "Compradora"],
            "email": ["ana@cliente.example", "ana@novo.example"]})
        assert (delete.action, delete.user_name, delete.record_label) == (
            "delete", "Manager", "Ana Souza")


# --- opportunities -------------------------------------------------------------------------


def test_an_opportunitys_changes_and_deletion(app, client, users, pipeline, make_account,
                                              make_opportunity):
    account_id = make_account()
    opportunity_id = make_opportunity(account_id, title="Servidores")
    stages, reasons = pipeline["stages"], pipeline["reasons"]
    other_stage = stages["Contato realizado"]
    with app.app_context():
        rep = user(users, "rep_a")
        with acting_as(rep):
            opportunity = db.session.get(Opportunity, opportunity_id)
            update_opportunity(opportunity, {"title": "Servidores novos",
                                             "stage_id": other_stage,
                                             "account_id": account_id}, user=rep)
            mark_lost(db.session.get(Opportunity, opportunity_id), user=rep,
                      loss_reason_id=next(iter(reasons.values())))
        create, change, lost = entries("crm_opportunity", opportunity_id)
        assert create.changes["title"] == [None, "Servidores"]
        assert change.user_name == "Rep_A"
        assert change.changes["title"] == ["Servidores", "Servidores novos"]
        assert change.changes["stage_id"] == [str(stages["Prospecção"]), str(other_stage)]
        assert lost.changes["status"] == ["open", "lost"]
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/opportunities/{opportunity_id}").get_data(as_text=True)
    assert 'id="history"' in html and "Pipeline history" in html
    assert "Servidores novos" in html and "Prospecção" in html and "Lost" in html
    login_as(client, users["rep_c"])
    assert client.get(f"/crm/opportunities/{opportunity_id}").status_code == 404
    with app.app_context():
        bulk_apply([opportunity_id], "delete", user=user(users, "rep_a"))  # no request
        delete = entries("crm_opportunity", opportunity_id)[-1]
        assert (delete.action, delete.record_label) == ("delete", "Servidores novos")
        assert delete.changes["status"] == ["lost", None]


# --- imports ---------------------------------------------------------------------------------


def test_an_import_is_recorded_as_its_users_in_one_insert_per_batch(app, users, import_dir,
                                                                    monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BATCH_SIZE", 500)
    monkeypatch.setitem(app.config, "IMPORT_WRITE_BATCH_SIZE", 500)
    content = csv_bytes([["Razão Social", "CNPJ", "Cidade"]] + [
        [f"Importada {i}", make_cnpj(i + 1), "Recife"] for i in range(500)])
    inserts = []

    def on_statement(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT") and "erp_audit_entry" in statement:
            inserts.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        result = run_import(app, users["rep_a"], "accounts", content)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    assert (result.status, result.created) == ("done", 500)
    assert len(inserts) == 1  # 500 entries, one statement
    with app.app_context():
        created = entries("crm_account")
        assert len(created) == 500
        assert {(e.action, e.user_id, e.user_name) for e in created} == {
            ("create", users["rep_a"], "Rep_A")}
        assert created[0].changes["city"] == [None, "Recife"]
