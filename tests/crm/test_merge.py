"""Merging two accounts, and two contacts (issue 18): every enabled module's records move
to the survivor through its MergeHandler (CRM, sales, finance, service and the Notes
example); a module with a table pointing to accounts and no handler blocks the merge; the
undo restores both exactly (every table's rows compared); scope, permission, conflicts,
field picks, the merged-away URL, the timeline's merged event, the audit trail, and no half
merge when a handler fails."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, ForeignKey, Integer, Table, func, inspect, select

from erp import merging
from erp.audit import AuditEntry
from erp.auth.models import User
from erp.db import db
from erp.registry import MERGE_ACCOUNT, ContractData, MergeHandler
from modules.crm.models import (
    Account,
    AccountContact,
    Action,
    Contact,
    MergeLog,
    Opportunity,
    OpportunityDraft,
    Tag,
)
from modules.crm.models.events import AccountEvent
from modules.crm.services import merge as service
from tests.erp.modfactory import modules_folder, unique, write_module

SKIPPED_TABLES = ("erp_", "crm_merge", "alembic")


def dump_all() -> dict[str, list]:
    """Every row of every table of the models (the audit trail, the host's outboxes and
    the merge log left out), in primary-key order: what "restored exactly" compares."""
    existing = set(inspect(db.engine).get_table_names())
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name.startswith(SKIPPED_TABLES) or table.name not in existing:
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        rows[table.name] = [tuple(row) for row in db.session.execute(
            select(table).order_by(*order))]
    return rows


def pointing_to(target: str, record_id: int) -> dict[str, int]:
    """How many rows of each table name ``record_id`` in a foreign key to ``target``."""
    counts = {}
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.target_fullname == f"{target}.id":
                count = db.session.scalar(select(func.count()).select_from(table)
                                          .where(fk.parent == record_id))
                if count:
                    counts[f"{table.name}.{fk.parent.name}"] = count
    return counts


@pytest.fixture
def admin(app, users):
    def get():
        return db.session.get(User, users["admin"])
    return get


@pytest.fixture
def filled(app, users, make_account, make_contact):
    """Two accounts of rep_a: "Alfa" (the survivor) and "Alfa Duplicada", which holds the
    contract records of every enabled module, a contact linked to both, and a tag."""
    survivor = make_account("rep_a", legal_name="Alfa Comércio Ltda", email="")
    merged = make_account("rep_a", legal_name="Alfa Duplicada Ltda",
                          email="compras@alfa.example", phone="(11) 3333-4444")
    shared = make_contact("rep_a", account_id=survivor, role=None, name="Ana Compras")
    with app.app_context():
        user = db.session.get(User, users["admin"])
        account = db.session.get(Account, merged)
        for data in app.extensions["erp"].items(ContractData, check_permission=False):
            data.fill(db.session.get(Account, merged), db.session.get(User, users["admin"]))
        db.session.add(AccountContact(account_id=merged, contact_id=shared, role="Compras"))
        tag = Tag(name="Importante")
        db.session.add(tag)
        db.session.flush()
        account = db.session.get(Account, merged)
        account.tags.append(tag)
        db.session.add(OpportunityDraft(user_id=users["rep_a"], title="Nova",
                                        payload={"title": "Nova", "account_id": str(merged)}))
        db.session.commit()
        assert user is not None
        db.session.remove()
    return {"survivor": survivor, "merged": merged, "shared": shared}


def modules_with_records(app, account_id: int) -> set[str]:
    tables = pointing_to("crm_account", account_id)
    return {name.split("_")[0] for name in tables}


def test_every_enabled_module_registers_an_account_handler(app):
    with app.app_context():
        registry = app.extensions["erp"]
        owners = {registry.module_of(MergeHandler, h.key) for h in merging.handlers("account")}
        enabled = {m.name for m in app.extensions["erp_modules"]}
        assert {"crm", "sales", "finance", "service", "notes"} <= enabled
        assert enabled <= owners
        assert merging.unsupported("account", "crm_account") == []
        assert merging.unsupported("contact", "crm_contact") == []


def test_merge_moves_every_modules_records_and_undo_restores_both_exactly(app, filled, admin):
    with app.app_context():
        assert modules_with_records(app, filled["merged"]) >= {
            "crm", "sales", "finance", "service", "notes"}
        before = dump_all()
        survivor = db.session.get(Account, filled["survivor"])
        merged = db.session.get(Account, filled["merged"])
        lines = dict(service.preview("account", survivor, merged))
        assert {"crm.account", "sales.account", "finance.account", "service.account",
                "notes.account"} <= set(lines)
        # Both named: the most recently changed one's name by default (the merged one,
        # filled last); the survivor's picked here.
        assert next(f for f in service.compare("account", survivor, merged)
                    if f.name == "legal_name").default == "merged"
        log = service.merge("account", survivor, merged, {"legal_name": "survivor"}, admin())
        log_id = log.id
        db.session.remove()

        # Nothing points to the merged account any more: all of it is on the survivor.
        assert pointing_to("crm_account", filled["merged"]) == {}
        merged = db.session.get(Account, filled["merged"])
        survivor = db.session.get(Account, filled["survivor"])
        assert merged.archived and merged.merged_into_id == survivor.id
        # Defaults: the non-empty value (the survivor had no e-mail).
        assert survivor.email == "compras@alfa.example"
        assert survivor.legal_name == "Alfa Comércio Ltda"
        assert [t.name for t in survivor.tags] == ["Importante"]
        # The unfinished opportunity form on the merged account now names the survivor.
        assert db.session.scalar(select(OpportunityDraft.payload))["account_id"] == str(
            survivor.id)
        # The contact linked to both keeps one link, with the merged one's role.
        links = db.session.scalars(select(AccountContact).where(
            AccountContact.contact_id == filled["shared"])).all()
        assert [(link.account_id, link.role) for link in links] == [(survivor.id, "Compras")]
        # The survivor's timeline has a "merged" event; the audit trail names the merge.
        assert db.session.scalar(select(func.count()).select_from(AccountEvent).where(
            AccountEvent.account_id == survivor.id, AccountEvent.kind == "merged")) == 1
        audit = db.session.scalars(select(AuditEntry).where(
            AuditEntry.table_name == "crm_account",
            AuditEntry.record_id == str(merged.id))).all()
        assert any(entry.changes.get("merged_into_id") == [None, str(survivor.id)]
                   for entry in audit), [e.changes for e in audit]

        service.undo(db.session.get(MergeLog, log_id), admin())
        db.session.remove()
        assert dump_all() == before
        assert db.session.get(MergeLog, log_id).undone_at is not None
        # Undone once only.
        with pytest.raises(Exception, match="already undone"):
            service.undo(db.session.get(MergeLog, log_id), admin())


def test_a_failing_handler_leaves_no_half_merge(app, filled, admin, monkeypatch):
    def broken(survivor, merged):
        raise RuntimeError("handler failed")

    real = merging.handlers
    monkeypatch.setattr(merging, "handlers", lambda kind: [
        *real(kind), MergeHandler("test.broken", kind, preview=lambda s, m: [], move=broken,
                                  undo=lambda s, m, log: None)])
    with app.app_context():
        before = dump_all()
        survivor = db.session.get(Account, filled["survivor"])
        merged = db.session.get(Account, filled["merged"])
        with pytest.raises(RuntimeError):
            service.merge("account", survivor, merged, {"email": "merged"}, admin())
        db.session.remove()
        assert dump_all() == before
        assert db.session.scalar(select(func.count()).select_from(MergeLog)) == 0


def test_field_picks_and_the_merged_away_url(app, users, make_account, client_as):
    survivor = make_account("rep_a", legal_name="Beta Serviços", email="a@beta.example",
                            phone="(11) 2222-1111")
    merged = make_account("rep_a", legal_name="Beta Servicos ME", email="b@beta.example",
                          phone="")
    client = client_as("manager")
    page = client.get(f"/crm/accounts/merge?a={survivor}&b={merged}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="pick_email"' in html and 'name="pick_phone"' in html
    assert 'name="pick_person_type"' not in html  # the same on both: nothing to pick
    assert "(11) 2222-1111" in html
    token = _csrf(html)
    with app.app_context():
        versions = [db.session.get(Account, i).version for i in (survivor, merged)]
    response = client.post("/crm/accounts/merge", data={
        "csrf_token": token, "a": survivor, "b": merged, "version_a": versions[0],
        "version_b": versions[1], "pick_email": "merged", "pick_legal_name": "survivor"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/crm/accounts/{survivor}")
    with app.app_context():
        kept = db.session.get(Account, survivor)
        assert kept.email == "b@beta.example" and kept.legal_name == "Beta Serviços"
        assert kept.phone  # the survivor's own, the merged one had none
    # The survivor's timeline shows the merge.
    timeline = client.get(f"/crm/accounts/{survivor}/tabs/timeline?kind=crm.account_merged")
    assert 'data-kind="crm.account_merged"' in timeline.get_data(as_text=True)
    # The merged account's page leads to the survivor, saying so.
    away = client.get(f"/crm/accounts/{merged}")
    assert away.status_code == 302 and away.headers["Location"].endswith(
        f"/crm/accounts/{survivor}")
    shown = client.get(away.headers["Location"]).get_data(as_text=True)
    assert "was merged into this record" in shown
    # The merge log lists it, with Undo; undoing restores the merged account.
    log = client.get("/crm/merges").get_data(as_text=True)
    with app.app_context():
        merge_id = db.session.scalar(select(MergeLog.id))
    assert f'data-merge="{merge_id}"' in log
    undone = client.post(f"/crm/merges/{merge_id}/undo", data={"csrf_token": _csrf(log)})
    assert undone.status_code == 303
    with app.app_context():
        back = db.session.get(Account, merged)
        assert not back.archived and back.merged_into_id is None
        assert db.session.get(Account, survivor).email == "a@beta.example"


def _csrf(html: str) -> str:
    import re

    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_refused_without_permission_and_out_of_scope(app, users, make_account, client_as):
    mine = make_account("rep_a", legal_name="Gama Um")
    also = make_account("rep_b", legal_name="Gama Dois")
    other_team = make_account("rep_c", legal_name="Gama Três")
    assert client_as("rep_a").get(f"/crm/accounts/merge?a={mine}&b={also}").status_code == 403
    assert 'id="merge-account"' not in client_as("rep_a").get(
        f"/crm/accounts/{mine}").get_data(as_text=True)
    manager = client_as("manager")
    assert 'id="merge-account"' in manager.get(f"/crm/accounts/{mine}").get_data(as_text=True)
    assert manager.get(f"/crm/accounts/merge?a={mine}").status_code == 200  # choose the other
    found = manager.get(f"/crm/accounts/merge?a={mine}&q=Gama").get_data(as_text=True)
    assert f"b={also}" in found and f"b={mine}" not in found
    assert f"b={other_team}" not in found  # another team's: not the manager's to see
    assert manager.get(f"/crm/accounts/merge?a={mine}&b={also}").status_code == 200
    for a, b in ((mine, other_team), (other_team, mine)):
        assert manager.get(f"/crm/accounts/merge?a={a}&b={b}").status_code == 404
        token = _csrf(manager.get(f"/crm/accounts/merge?a={mine}&b={also}")
                      .get_data(as_text=True))
        assert manager.post("/crm/accounts/merge", data={
            "csrf_token": token, "a": a, "b": b}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MergeLog)) == 0
        assert not db.session.get(Account, other_team).archived


def test_different_tax_ids_are_refused(app, users, make_account, client_as):
    first = make_account("rep_a", legal_name="Delta Um", tax_id="11.222.333/0001-81")
    second = make_account("rep_a", legal_name="Delta Dois", tax_id="11.444.777/0001-61")
    client = client_as("manager")
    html = client.get(f"/crm/accounts/merge?a={first}&b={second}").get_data(as_text=True)
    assert 'id="merge-problems"' in html and "different tax ids" in html
    response = client.post("/crm/accounts/merge", data={
        "csrf_token": _csrf(html), "a": first, "b": second})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MergeLog)) == 0
        assert not db.session.get(Account, second).archived


def test_tax_id_taken_by_the_survivor_and_back_on_undo(app, users, make_account, admin):
    survivor = make_account("rep_a", legal_name="Épsilon")
    merged = make_account("rep_a", legal_name="Épsilon Ltda", tax_id="11.222.333/0001-81")
    with app.app_context():
        before = dump_all()
        log = service.merge("account", db.session.get(Account, survivor),
                            db.session.get(Account, merged), {}, admin())
        assert db.session.get(Account, survivor).tax_id == "11222333000181"
        assert db.session.get(Account, merged).tax_id is None
        service.undo(log, admin())
        db.session.remove()
        assert dump_all() == before


def test_external_reference_taken_by_the_survivor_and_back_on_undo(app, users, make_account,
                                                                    admin):
    survivor = make_account("rep_a", legal_name="Zeta Peças")
    merged = make_account("rep_a", legal_name="Zeta Pecas Ltda")
    with app.app_context():
        db.session.get(Account, merged).external_ref = "OMIE-77"
        db.session.commit()
        before = dump_all()
        log = service.merge("account", db.session.get(Account, survivor),
                            db.session.get(Account, merged), {}, admin())
        # One record per reference: the survivor holds it, the archived one lets it go.
        assert db.session.get(Account, survivor).external_ref == "OMIE-77"
        assert db.session.get(Account, merged).external_ref is None
        service.undo(log, admin())
        db.session.remove()
        assert dump_all() == before


def test_a_module_without_a_handler_blocks_the_merge(app, users, make_account, make_app,
                                                      tmp_path, admin):
    folder = modules_folder(tmp_path)
    name = unique("orphans")
    write_module(folder, name, depends=("crm",), body=f'''
from sqlalchemy import Column, ForeignKey, Integer, Table

from erp.db import db

if "{name}_thing" not in db.metadata.tables:
    Table("{name}_thing", db.metadata, Column("id", Integer, primary_key=True),
          Column("account_id", ForeignKey("crm_account.id")))
''')
    survivor = make_account("rep_a", legal_name="Zeta")
    merged = make_account("rep_a", legal_name="Zeta Dup")
    try:
        other = make_app(ERP_MODULE_DIRS=[str(folder)],
                         ERP_MODULES=[*[m.name for m in app.extensions["erp_modules"]], name])
        with other.app_context():
            first = db.session.get(Account, survivor)
            second = db.session.get(Account, merged)
            found = service.problems("account", first, second)
            assert f"Module {name} does not support merging accounts" in " ".join(found)
            with pytest.raises(Exception):  # noqa: B017 (InvalidInput)
                service.merge("account", first, second, {}, db.session.get(User,
                                                                             users["admin"]))
            db.session.remove()
            assert not db.session.get(Account, merged).archived
    finally:
        table = db.metadata.tables.get(f"{name}_thing")
        if table is not None:
            db.metadata.remove(table)
    assert Column and ForeignKey and Integer and Table  # (imports for the module's body)


def test_contacts_merge_with_links_actions_and_quotes_then_undo(app, users, make_account,
                                                                 make_contact, admin):
    from erp.db import utcnow

    first_account = make_account("rep_a", legal_name="Eta Um")
    second_account = make_account("rep_a", legal_name="Eta Dois")
    survivor = make_contact("rep_a", account_id=first_account, role="Diretor",
                            name="Maria Silva", phone="(11) 98888-7777")
    merged = make_contact("rep_a", account_id=first_account, role="Compras",
                          name="Maria da Silva", email="maria@eta.example")
    with app.app_context():
        db.session.add(AccountContact(account_id=second_account, contact_id=merged,
                                      role="Financeiro"))
        user = admin()
        db.session.add(Action(account_id=first_account, contact_id=merged, user_id=user.id,
                              kind="call", done=True, description="Ligação", at=utcnow()))
        db.session.add(OpportunityDraft(user_id=user.id, title="Rascunho", payload={
            "account_id": str(first_account), "contact_id": str(merged)}))
        db.session.commit()
        sales = app.extensions["erp"].get(ContractData, "sales")
        if sales is not None:  # a quote sent to the contact with an e-mail: the merged one
            sales.fill(db.session.get(Account, first_account), admin())
        assert set(pointing_to("crm_contact", merged)) >= {
            "crm_account_contact.contact_id", "crm_action.contact_id",
            *(["sales_quote.contact_id"] if sales is not None else [])}
        before = dump_all()
        log = service.merge("contact", db.session.get(Contact, survivor),
                            db.session.get(Contact, merged), {"name": "merged"}, admin())
        log_id = log.id
        db.session.remove()
        assert pointing_to("crm_contact", merged) == {}
        kept = db.session.get(Contact, survivor)
        assert kept.name == "Maria da Silva" and kept.email == "maria@eta.example"
        assert kept.phone  # its own (the merged contact had none)
        roles = sorted((link.account_id, link.role) for link in kept.account_links)
        assert roles == sorted([(first_account, "Diretor"), (second_account, "Financeiro")])
        assert db.session.get(Contact, merged).merged_into_id == survivor
        assert db.session.scalar(select(OpportunityDraft.payload))["contact_id"] == str(
            survivor)
        service.undo(db.session.get(MergeLog, log_id), admin())
        db.session.remove()
        assert dump_all() == before


def test_contacts_merge_page_and_merged_away_url(app, users, make_contact, client_as):
    survivor = make_contact("rep_a", name="Carlos Souza")
    merged = make_contact("rep_a", name="Carlos de Souza")
    client = client_as("manager")
    html = client.get(f"/crm/contacts/merge?a={survivor}&b={merged}").get_data(as_text=True)
    assert 'name="pick_name"' in html
    assert client.post("/crm/contacts/merge", data={
        "csrf_token": _csrf(html), "a": survivor, "b": merged}).status_code == 303
    away = client.get(f"/crm/contacts/{merged}")
    assert away.status_code == 302 and away.headers["Location"].endswith(
        f"/crm/contacts/{survivor}")
    assert client_as("rep_a").get(
        f"/crm/contacts/merge?a={survivor}&b={merged}").status_code == 403


def test_opportunities_follow_to_the_survivor(app, users, make_account, make_opportunity, admin):
    survivor = make_account("rep_a", legal_name="Teta")
    merged = make_account("rep_a", legal_name="Teta Dup")
    opportunity = make_opportunity(merged)
    with app.app_context():
        service.merge("account", db.session.get(Account, survivor),
                      db.session.get(Account, merged), {}, admin())
        assert db.session.get(Opportunity, opportunity).account_id == survivor
        assert MERGE_ACCOUNT == "account"


def test_undo_keeps_changes_made_to_the_survivor_after_the_merge(app, users, make_account,
                                                                 admin):
    survivor = make_account("rep_a", legal_name="Iota", email="")
    merged = make_account("rep_a", legal_name="Iota Dup", email="iota@example.com")
    with app.app_context():
        merged_before = dump_all()["crm_account"]
        log = service.merge("account", db.session.get(Account, survivor),
                            db.session.get(Account, merged), {}, admin())
        kept = db.session.get(Account, survivor)
        kept.city = "Campinas"  # someone's edit after the merge
        db.session.commit()
        service.undo(db.session.get(MergeLog, log.id), admin())
        db.session.remove()
        kept = db.session.get(Account, survivor)
        assert kept.city == "Campinas" and kept.email is None  # the merge's pick undone
        rows = {row[0]: row for row in dump_all()["crm_account"]}
        assert rows[merged] == next(r for r in merged_before if r[0] == merged)


def test_undo_is_refused_after_30_days(app, users, make_account, admin):
    from datetime import timedelta

    from erp.db import utcnow

    survivor = make_account("rep_a", legal_name="Lambda")
    merged = make_account("rep_a", legal_name="Lambda Dup")
    with app.app_context():
        log = service.merge("account", db.session.get(Account, survivor),
                            db.session.get(Account, merged), {}, admin())
        log.at = utcnow() - timedelta(days=service.UNDO_DAYS, minutes=1)
        db.session.commit()
        with pytest.raises(Exception, match="within 30 days"):
            service.undo(db.session.get(MergeLog, log.id), admin())
        assert db.session.get(Account, merged).merged_into_id == survivor


def test_a_merge_is_a_webhook_event_in_its_transaction(app, users, make_account, admin):
    from erp.webhooks.models import WebhookDelivery, WebhookEndpoint

    survivor = make_account("rep_a", legal_name="Mu")
    merged = make_account("rep_a", legal_name="Mu Dup")
    with app.app_context():
        db.session.add(WebhookEndpoint(name="Receptor", url="http://127.0.0.1:9/hook",
                                       secret="s" * 32, active=True,
                                       events=["crm.account.merged"]))
        db.session.commit()
        log = service.merge("account", db.session.get(Account, survivor),
                            db.session.get(Account, merged), {}, admin())
        deliveries = db.session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.event == "crm.account.merged")).all()
        assert [d.data["merge_id"] for d in deliveries] == [log.id]
        assert deliveries[0].data["survivor_id"] == survivor
        assert deliveries[0].data["merged_id"] == merged


def test_the_merge_log_shows_only_merges_within_scope(app, users, make_account, client_as,
                                                      admin):
    ours = [make_account("rep_a", legal_name=f"Nu {n}") for n in (1, 2)]
    theirs = [make_account("rep_c", legal_name=f"Xi {n}") for n in (1, 2)]
    with app.app_context():
        mine = service.merge("account", *(db.session.get(Account, i) for i in ours), {},
                             admin()).id
        other = service.merge("account", *(db.session.get(Account, i) for i in theirs), {},
                              admin()).id
    manager = client_as("manager")
    page = manager.get("/crm/merges").get_data(as_text=True)
    assert f'data-merge="{mine}"' in page and f'data-merge="{other}"' not in page
    assert manager.post(f"/crm/merges/{other}/undo",
                        data={"csrf_token": _csrf(page)}).status_code == 404
    assert f'data-merge="{other}"' in client_as("admin").get("/crm/merges").get_data(
        as_text=True)
    assert client_as("rep_a").get("/crm/merges").status_code == 403
