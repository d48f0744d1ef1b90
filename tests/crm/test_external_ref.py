"""The external reference as a field of its own (issue 19): an account's or opportunity's
code in the system it came from, which a re-import matches by (crm 0019). Shown on their
pages, edited in their forms and through the API (read, written, an exact filter read from
its index), one record per reference in each table (the services' rule: the importers
refuse a row whose reference two records have), never naming a record out of scope, and
labelled in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from erp.audit import AuditEntry
from erp.auth.models import User
from erp.db import db
from erp.errors import InvalidInput
from erp.imports.models import DONE
from erp.testing import csrf_token, login_as
from modules.crm.models import Account, Opportunity
from modules.crm.services.accounts import create_account, update_account
from modules.crm.services.external_refs import external_ref_in, holder_select
from modules.crm.services.opportunities import (
    create_opportunity,
    opportunity_scope,
    update_opportunity,
)
from modules.crm.services.scope import account_scope
from tests.crm.api_support import api_as, error_of
from tests.crm.plans import full_scans, query_plan
from tests.crm.test_import_ref_plans import grown  # noqa: F401 (the fixture)
from tests.erp.importing import (
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    make_cnpj,
    run_import,
)

LONG = "X" * 61


def _user(app, users, name: str = "rep_a") -> User:
    return db.session.get(User, users[name])


def _account(app, account_id: int) -> Account:
    with app.app_context():
        account = db.session.get(Account, account_id)
        db.session.expunge(account)
        db.session.remove()
    return account


def _opportunity(app, opportunity_id: int) -> Opportunity:
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        db.session.expunge(opportunity)
        db.session.remove()
    return opportunity


def _errors(call) -> dict:
    with pytest.raises(InvalidInput) as error:
        call()
    db.session.rollback()
    return error.value.errors


# --- the web form and the page --------------------------------------------------------------


def _account_form(token: str, users, **extra) -> dict:
    return {"csrf_token": token, "person_type": "PJ", "legal_name": "Conta Teste Ltda.",
            "owner_id": str(users["rep_a"]), "lifecycle": "prospect", **extra}


def test_the_account_form_edits_it_and_the_page_shows_it(app, client, users, make_account):
    account_id = make_account("rep_a", legal_name="Conta Teste Ltda.")
    login_as(client, users["rep_a"])
    page = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert "account-external-ref" not in page  # none: not shown
    url = f"/crm/accounts/{account_id}/edit"
    token = csrf_token(client, url)
    assert 'name="external_ref"' in client.get(url).get_data(as_text=True)
    response = client.post(url, data=_account_form(token, users, external_ref="  ERP-77 "))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _account(app, account_id).external_ref == "ERP-77"  # trimmed
    page = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert "External reference" in page and '<span id="account-external-ref">ERP-77</span>' \
        in page
    assert 'value="ERP-77"' in client.get(url).get_data(as_text=True)  # the form has it
    # Emptied: none (NULL, not "").
    response = client.post(url, data=_account_form(token, users, external_ref="   "))
    assert response.status_code == 303
    assert _account(app, account_id).external_ref is None


def test_the_account_form_says_why_a_reference_is_refused(app, client, users, make_account):
    make_account("rep_a", legal_name="Padaria Pão Quente Ltda", external_ref="1001")
    make_account("rep_b", legal_name="Segredo de Outro Ltda", external_ref="2002")
    account_id = make_account("rep_a", legal_name="Conta Teste Ltda.")
    login_as(client, users["rep_a"])
    url = f"/crm/accounts/{account_id}/edit"
    token = csrf_token(client, url)
    for reference, message in (
            ("1001", "Another account already has this external reference "
                     "(Padaria Pão Quente Ltda)."),
            ("2002", "Another account, in another portfolio, already has this external "
                     "reference; ask a manager."),
            (LONG, "At most 60 characters.")):
        response = client.post(url, data=_account_form(token, users, external_ref=reference))
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and message in html, (reference, html)
        assert "Segredo de Outro" not in html  # out of scope: never named
    assert _account(app, account_id).external_ref is None


def test_the_opportunity_form_edits_it_and_the_page_shows_it(app, client, users,
                                                             make_account, make_opportunity,
                                                             pipeline):
    account_id = make_account("rep_a")
    make_opportunity(account_id, title="Outra", external_ref="OP-1")
    opportunity_id = make_opportunity(account_id, title="ERP + NFS-e")
    login_as(client, users["rep_a"])
    url = f"/crm/opportunities/{opportunity_id}/edit"
    token = csrf_token(client, url)
    form = {"csrf_token": token, "account_id": account_id, "title": "ERP + NFS-e",
            "stage_id": pipeline["stages"]["Prospecção"], "owner_id": users["rep_a"],
            "version": "1"}
    refused = client.post(url, data={**form, "external_ref": "OP-1"})
    assert refused.status_code == 422
    assert "Another opportunity already has this external reference (Outra)." in \
        refused.get_data(as_text=True)
    response = client.post(url, data={**form, "external_ref": " OP-2 "})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _opportunity(app, opportunity_id).external_ref == "OP-2"
    page = client.get(f"/crm/opportunities/{opportunity_id}").get_data(as_text=True)
    assert 'id="opportunity-external-ref">OP-2</dd>' in page and "External reference" in page
    assert 'value="OP-2"' in client.get(url).get_data(as_text=True)


def test_the_pages_speak_portuguese(app, client, users, make_account):
    make_account("rep_a", legal_name="Padaria Pão Quente Ltda", external_ref="1001")
    account_id = make_account("rep_a", external_ref="1002")
    with app.app_context():
        db.session.get(User, users["rep_a"]).locale = "pt_BR"
        db.session.commit()
        db.session.remove()
    login_as(client, users["rep_a"])
    page = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert "Referência externa" in page
    url = f"/crm/accounts/{account_id}/edit"
    refused = client.post(url, data=_account_form(csrf_token(client, url), users,
                                                  external_ref="1001"))
    assert "Outra conta já tem esta referência externa (Padaria Pão Quente Ltda)." in \
        refused.get_data(as_text=True)


# --- the services' rule ---------------------------------------------------------------------


def test_one_reference_per_record_of_each_table(app, users, make_account, make_opportunity):
    first = make_account("rep_a", legal_name="Primeira Ltda", external_ref="A-1")
    other = make_account("rep_a", legal_name="Segunda Ltda")
    elsewhere = make_account("rep_b", legal_name="De Outro Ltda", external_ref="B-1")
    opportunity_id = make_opportunity(first, title="Licenças", external_ref="A-1")  # another table
    with app.app_context():
        rep_a, manager = _user(app, users), _user(app, users, "manager")
        account = db.session.get(Account, other)
        assert _errors(lambda: update_account(account, {"external_ref": "A-1"}, user=rep_a)) \
            == {"external_ref": ["Another account already has this external reference "
                                 "(Primeira Ltda)."]}
        message = _errors(lambda: update_account(account, {"external_ref": "B-1"},
                                                 user=rep_a))["external_ref"][0]
        assert "De Outro" not in message and "another portfolio" in message
        # The manager sees it: named.
        assert "De Outro Ltda" in _errors(lambda: update_account(
            db.session.get(Account, other), {"external_ref": "B-1"}, user=manager))[
            "external_ref"][0]
        assert _errors(lambda: create_account({"legal_name": "Nova", "external_ref": " A-1"},
                                              user=rep_a))["external_ref"]
        assert _errors(lambda: update_account(db.session.get(Account, other),
                                              {"external_ref": "A\n1"}, user=rep_a))[
            "external_ref"]  # one line
        # A record keeps its own; another of its fields changes freely.
        account = db.session.get(Account, first)
        update_account(account, {"external_ref": "A-1", "city": "Recife"}, user=rep_a)
        assert account.external_ref == "A-1" and account.city == "Recife"
        opportunity = db.session.get(Opportunity, opportunity_id)
        update_opportunity(opportunity, {"external_ref": "A-1", "title": "Licenças 2"},
                           user=rep_a)
        assert opportunity.external_ref == "A-1"
        assert _errors(lambda: create_opportunity(
            {"account_id": first, "title": "Suporte", "external_ref": "A-1"}, user=rep_a)) == {
            "external_ref": ["Another opportunity already has this external reference "
                             "(Licenças 2)."]}
        assert _errors(lambda: create_opportunity(
            {"account_id": first, "title": "Suporte", "external_ref": LONG}, user=rep_a)) == {
            "external_ref": ["At most 60 characters."]}
        db.session.remove()
    assert _account(app, elsewhere).external_ref == "B-1"
    assert _account(app, other).external_ref is None


# --- the API --------------------------------------------------------------------------------


def test_the_api_reads_writes_and_filters_accounts_by_it(app, client, users, make_account):
    make_account("rep_b", legal_name="De Outro Ltda", external_ref="B-1")
    api = api_as(app, client, users, "rep_a")
    created = api.post("/accounts", json={"legal_name": "Trilha Ltda.",
                                          "external_ref": " T-1 "})
    assert created.status_code == 201, created.json
    account = created.json
    assert account["external_ref"] == "T-1"
    other = api.post("/accounts", json={"legal_name": "Vereda Ltda."}).json
    assert other["external_ref"] is None
    assert api.get(f"/accounts/{account['id']}").json["external_ref"] == "T-1"
    found = api.get("/accounts?external_ref=T-1").json
    assert [a["id"] for a in found["items"]] == [account["id"]]
    assert api.get("/accounts?external_ref=t-1").json["items"] == []  # exact
    assert api.get("/accounts?external_ref=B-1").json["items"] == []  # out of scope
    taken = api.patch(f"/accounts/{other['id']}", json={"external_ref": "T-1"})
    assert error_of(taken, 422, "validation_error")["fields"] == {"external_ref": [
        "Another account already has this external reference (Trilha Ltda.)."]}
    elsewhere = api.patch(f"/accounts/{other['id']}", json={"external_ref": "B-1"})
    message = error_of(elsewhere, 422)["fields"]["external_ref"][0]
    assert "another portfolio" in message and "De Outro" not in elsewhere.get_data(True)
    assert error_of(api.patch(f"/accounts/{other['id']}", json={"external_ref": LONG}), 422)
    changed = api.patch(f"/accounts/{account['id']}", json={"external_ref": "T-2"})
    assert changed.status_code == 200 and changed.json["external_ref"] == "T-2"
    cleared = api.patch(f"/accounts/{account['id']}", json={"external_ref": None})
    assert cleared.status_code == 200 and cleared.json["external_ref"] is None
    assert _account(app, account["id"]).external_ref is None


def test_the_api_reads_writes_and_filters_opportunities_by_it(app, client, users,
                                                              make_account, pipeline):
    account_id = make_account("rep_a")
    api = api_as(app, client, users, "rep_a")
    created = api.post("/opportunities", json={"title": "ERP", "account_id": account_id,
                                               "external_ref": "OP-9"})
    assert created.status_code == 201, created.json
    assert created.json["external_ref"] == "OP-9"
    other = api.post("/opportunities", json={"title": "Suporte", "account_id": account_id})
    assert other.json["external_ref"] is None
    found = api.get("/opportunities?external_ref=OP-9").json["items"]
    assert [o["id"] for o in found] == [created.json["id"]]
    taken = api.patch(f"/opportunities/{other.json['id']}", json={"external_ref": "OP-9"})
    assert error_of(taken, 422)["fields"]["external_ref"] == [
        "Another opportunity already has this external reference (ERP)."]
    moved = api.patch(f"/opportunities/{created.json['id']}", json={"external_ref": "OP-10"})
    assert moved.status_code == 200 and moved.json["external_ref"] == "OP-10"
    assert api.get("/opportunities?external_ref=OP-9").json["items"] == []


def test_the_openapi_document_has_the_field_and_the_filters(app, client):
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    for name in ("Account", "AccountCreate", "AccountUpdate", "Opportunity",
                 "OpportunityCreate", "OpportunityUpdate"):
        assert schemas[name]["properties"]["external_ref"]["maxLength"] == 60, name
    paths = {path.removeprefix("/api/v1"): item for path, item in spec["paths"].items()}
    for path in ("/accounts", "/opportunities"):
        parameters = paths[path]["get"]["parameters"]
        assert "external_ref" in {p["name"] for p in parameters if p["in"] == "query"}, path


@pytest.mark.usefixtures("grown")
@pytest.mark.parametrize("who", ["admin", "rep_a"])
def test_the_filter_and_the_rule_read_the_references_index(app, users, who):
    """Structural: the list's filter, and the rule's look-up, find the reference in its
    index, never checking every record (in id order, or a portfolio's). Seeded as
    test_import_ref_plans.py's ``grown``: 20,000 records, one in a hundred with a
    reference, statistics taken; SQLite then takes a reference for one matching most
    rows (crm 0019's plain index holds NULL for nearly all), and an equality next to the
    list's other conditions was read by walking ix_*_archived_id instead."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":  # and before most records have one
            with db.engine.begin() as conn:
                conn.execute(db.text("UPDATE sqlite_stat1 SET stat = '20000 20000' "
                                     "WHERE idx LIKE 'ix_%_external_ref'"))
            db.engine.dispose()
        user = db.session.get(User, users[who])
        for model, scope in ((Account, account_scope), (Opportunity, opportunity_scope)):
            table = model.__table__.name
            listed = select(model).where(scope(user), model.archived.is_(False),
                                         external_ref_in(model.__table__, {"R100"}),
                                         model.id > 0).order_by(model.id).limit(41)
            plan = query_plan(listed)
            assert not full_scans(plan, table) and "external_ref" in plan, plan
            plan = query_plan(holder_select(model, "R100", 1))
            assert not full_scans(plan, table) and "external_ref" in plan, plan
        db.session.remove()


# --- the audit trail and the importer --------------------------------------------------------


def test_the_audit_trail_labels_it(app, client, users, make_account):
    account_id = make_account("rep_a")
    api = api_as(app, client, users, "rep_a")
    assert api.patch(f"/accounts/{account_id}", json={"external_ref": "H-1"}).status_code \
        == 200
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.table_name == "crm_account",
            AuditEntry.record_id == str(account_id)).order_by(AuditEntry.id.desc())).first()
        assert entry.changes["external_ref"] == [None, "H-1"]
        db.session.remove()
    login_as(client, users["rep_a"])
    history = client.get(f"/crm/accounts/{account_id}?tab=history").get_data(as_text=True)
    assert "External reference" in history and "H-1" in history


@pytest.mark.usefixtures("import_dir")
def test_a_reimport_finds_the_account_by_a_reference_set_in_the_form(app, client, users,
                                                                     make_account):
    account_id = make_account("rep_a", legal_name="Padaria Pão Quente Ltda")
    login_as(client, users["rep_a"])
    url = f"/crm/accounts/{account_id}/edit"
    form = _account_form(csrf_token(client, url), users, legal_name="Padaria Pão Quente Ltda",
                         external_ref="1001")
    assert client.post(url, data=form).status_code == 303
    rows = [["Código", "Nome", "CPF/CNPJ", "Cidade"],
            ["1001", "Padaria Pão Quente Eireli", make_cnpj(44555666), "Campinas"]]
    result = run_import(app, users["rep_a"], "accounts", csv_bytes(rows))
    assert (result.status, result.created, result.updated) == (DONE, 0, 1), result.rejects
    account = _account(app, account_id)
    assert (account.legal_name, account.city, account.external_ref) == (
        "Padaria Pão Quente Eireli", "Campinas", "1001")
