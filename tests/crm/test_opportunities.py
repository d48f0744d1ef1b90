"""Opportunities: items and totals, stages, won/lost, history, watchers, bulk, drafts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erp.auth.models import User
from erp.db import db
from erp.errors import Conflict, InvalidInput
from modules.crm.models import Account, Opportunity, OpportunityChange, OpportunityDraft, Tag
from modules.crm.services import opportunities as service
from tests.conftest import csrf_token, login_as


def user(users, name="rep_a") -> User:
    return db.session.get(User, users[name])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def account(make_account):
    return make_account(legal_name="Mosaico Tecnologia Ltda.")


# --- items and value ----------------------------------------------------------------


def test_estimated_value_is_the_sum_of_the_items(app, users, account, make_opportunity):
    opportunity_id = make_opportunity(account, items=[
        {"description": "Licença ERP", "quantity": "2", "unit_price": "1.234,50"},
        {"description": "Implantação", "quantity": "", "unit_price": "500"},
        {"description": "", "quantity": "", "unit_price": ""},  # an empty form row
        {"description": "Treinamento", "quantity": "1,5", "unit_price": "200.00"},
    ])
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        assert [i.description for i in opportunity.items] == ["Licença ERP", "Implantação",
                                                              "Treinamento"]
        assert opportunity.estimated_value == Decimal("3269.00")  # 2469 + 500 + 300


def test_value_is_recomputed_on_edit_and_recorded(app, users, account, make_opportunity):
    opportunity_id = make_opportunity(account, items=[{"description": "A", "unit_price": "100"}])
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        service.update_opportunity(opportunity, {"items": [
            {"description": "A", "quantity": "3", "unit_price": "100"}]}, user=user(users))
        assert opportunity.estimated_value == Decimal("300.00")
        changes = db.session.scalars(select(OpportunityChange).where(
            OpportunityChange.field == "value")).all()
        assert [(c.old_value, c.new_value) for c in changes] == [("100.00", "300.00")]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"description": "", "unit_price": "10"}, "items-0-description"),
        ({"description": "X", "quantity": "0"}, "items-0-quantity"),
        ({"description": "X", "quantity": "abc"}, "items-0-quantity"),
        ({"description": "X", "unit_price": "-1"}, "items-0-unit_price"),
        ({"description": "X", "unit_price": "dez"}, "items-0-unit_price"),
    ],
)
def test_bad_items_are_refused(app, users, account, pipeline, item, field):
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            service.create_opportunity({"title": "T", "account_id": account, "items": [item]},
                                       user=user(users))
        assert field in error.value.errors
        db.session.rollback()
        assert count(Opportunity) == 0


def test_required_fields_and_scope_of_the_account(app, users, make_account, pipeline):
    other = make_account("rep_c", legal_name="Outra")
    with app.app_context():
        with pytest.raises(InvalidInput) as error:
            service.create_opportunity({"title": "", "account_id": other}, user=user(users))
        assert set(error.value.errors) >= {"title", "account_id"}


# --- stages and status ----------------------------------------------------------------


def test_stage_move_is_recorded_and_resets_time_in_stage(app, users, account, pipeline,
                                                          make_opportunity):
    opportunity_id = make_opportunity(account)
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        entered = opportunity.stage_entered_at
        service.move_to_stage(opportunity, pipeline["stages"]["Negociação"], user=user(users))
        assert opportunity.stage.name == "Negociação"
        assert opportunity.stage_entered_at >= entered
        change = db.session.scalars(select(OpportunityChange).where(
            OpportunityChange.field == "stage")).one()
        assert (change.old_value, change.new_value) == ("Prospecção", "Negociação")


def test_winning_makes_the_account_a_customer(app, users, account, make_opportunity):
    opportunity_id = make_opportunity(account)
    with app.app_context():
        service.mark_won(db.session.get(Opportunity, opportunity_id), user=user(users))
        assert db.session.get(Account, account).lifecycle == "customer"
        assert db.session.get(Opportunity, opportunity_id).closed_at is not None


def test_lost_needs_a_reason(app, users, account, pipeline, make_opportunity):
    opportunity_id = make_opportunity(account)
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        for reason in (None, "", 99999):
            with pytest.raises(InvalidInput) as error:
                service.mark_lost(opportunity, user=user(users), loss_reason_id=reason)
            assert "loss_reason_id" in error.value.errors
            db.session.rollback()
        assert db.session.get(Opportunity, opportunity_id).status == "open"
        service.mark_lost(opportunity, user=user(users),
                          loss_reason_id=pipeline["reasons"]["Preço muito alto"], note="caro")
        assert opportunity.status == "lost" and opportunity.loss_reason.name == "Preço muito alto"
        service.reopen(opportunity, user=user(users))
        assert opportunity.status == "open" and opportunity.loss_reason_id is None


def test_lost_without_reason_is_refused_by_the_endpoint_and_drag(client, users, account,
                                                                  make_opportunity):
    opportunity_id = make_opportunity(account)
    login_as(client, users["rep_a"])
    token = csrf_token(client, f"/crm/opportunities/{opportunity_id}")
    url = f"/crm/opportunities/{opportunity_id}/status"
    response = client.post(url, data={"csrf_token": token, "status": "lost"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert "Choose why the opportunity was lost." in response.get_json()["error"]["message"]
    response = client.post(url, data={"csrf_token": token, "status": "lost"})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Choose why the opportunity was lost." in page
    assert client.post(url, data={"status": "won"}).status_code == 400  # CSRF


def test_stage_endpoint_json_and_plain(client, users, account, pipeline, make_opportunity):
    opportunity_id = make_opportunity(account)
    login_as(client, users["rep_a"])
    token = csrf_token(client, f"/crm/opportunities/{opportunity_id}")
    url = f"/crm/opportunities/{opportunity_id}/stage"
    target = pipeline["stages"]["Proposta apresentada"]
    response = client.post(url, data={"csrf_token": token, "stage_id": target},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json()["stage_id"] == target
    bad = client.post(url, data={"csrf_token": token, "stage_id": "999"},
                      headers={"Accept": "application/json"})
    assert bad.status_code == 422 and bad.get_json()["error"]["message"]
    response = client.post(url, data={"csrf_token": token, "next": "/crm/funnel",
                                      "stage_id": pipeline["stages"]["Negociação"]})
    assert response.status_code == 302 and response.location == "/crm/funnel"


def test_other_reps_opportunity_is_out_of_reach(client, users, make_account, make_opportunity):
    theirs = make_opportunity(make_account("rep_b"), owner="rep_b")
    login_as(client, users["rep_a"])
    token = csrf_token(client, "/crm/opportunities")
    assert client.get(f"/crm/opportunities/{theirs}").status_code == 404
    assert client.post(f"/crm/opportunities/{theirs}/stage",
                       data={"csrf_token": token, "stage_id": "1"}).status_code == 404
    login_as(client, users["manager"])
    assert client.get(f"/crm/opportunities/{theirs}").status_code == 200


def test_concurrent_edits_conflict(app, users, account, make_opportunity):
    opportunity_id = make_opportunity(account)
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        seen = opportunity.version
        service.update_opportunity(opportunity, {"title": "Mine"}, user=user(users),
                                   expected_version=seen)
        with pytest.raises(Conflict):
            service.update_opportunity(opportunity, {"title": "Theirs"}, user=user(users),
                                       expected_version=seen)


# --- watchers -------------------------------------------------------------------------------


def test_watchers_mail_is_queued_with_the_change(app, users, account, pipeline,
                                                  make_opportunity):
    from erp.mail import OutboxMessage

    opportunity_id = make_opportunity(account, watcher_ids=[users["manager"], users["rep_a"]])
    with app.app_context():
        before = count(OutboxMessage)
        opportunity = db.session.get(Opportunity, opportunity_id)
        service.move_to_stage(opportunity, pipeline["stages"]["Negociação"], user=user(users))
        mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert len(mails) == before + 1
        # The actor is not told about their own change.
        assert mails[-1].to == ["manager@example.com"]
        assert "Prospecção → Negociação" in mails[-1].body_text


def test_watchers_are_not_mailed_if_the_change_fails(app, users, account, make_opportunity):
    from erp.mail import OutboxMessage

    opportunity_id = make_opportunity(account, watcher_ids=[users["manager"]])
    with app.app_context():
        before = count(OutboxMessage)
        with pytest.raises(InvalidInput):
            service.mark_lost(db.session.get(Opportunity, opportunity_id), user=user(users),
                              loss_reason_id=None)
        db.session.rollback()
        assert count(OutboxMessage) == before


def test_watchers_stop_after_closing(app, users, account, pipeline, make_opportunity):
    from erp.mail import OutboxMessage

    opportunity_id = make_opportunity(account, watcher_ids=[users["manager"]])
    with app.app_context():
        opportunity = db.session.get(Opportunity, opportunity_id)
        service.mark_won(opportunity, user=user(users))
        after_close = count(OutboxMessage)  # the closing itself is announced
        service.update_opportunity(opportunity, {"title": "Renomeada"}, user=user(users))
        assert count(OutboxMessage) == after_close


# --- bulk actions ------------------------------------------------------------------------------


@pytest.fixture
def three(app, users, make_account, make_opportunity):
    mine = make_account(legal_name="Minha")
    theirs = make_account("rep_c", legal_name="Alheia")
    with app.app_context():
        db.session.add(Tag(name="Feira"))
        db.session.commit()
    return {"a1": make_opportunity(mine, title="A1"), "a2": make_opportunity(mine, title="A2"),
            "c1": make_opportunity(theirs, owner="rep_c", title="C1")}


def tag_id(app, name="Feira") -> int:
    with app.app_context():
        return db.session.scalar(select(Tag.id).where(Tag.name == name))


def test_bulk_tag_add_remove_and_filter(app, client, users, three):
    login_as(client, users["rep_a"])
    token = csrf_token(client, "/crm/opportunities")
    ids = [three["a1"], three["a2"], three["c1"]]
    response = client.post("/crm/opportunities/bulk", data={
        "csrf_token": token, "ids": ids, "action": "add_tag", "tag_id": tag_id(app)})
    page = client.get(response.location).get_data(as_text=True)
    assert "2 of 3 selected opportunities changed." in page  # C1 is not in rep_a's scope
    listed = client.get(f"/crm/opportunities?tag={tag_id(app)}").get_data(as_text=True)
    assert ">A1<" in listed and ">A2<" in listed
    client.post("/crm/opportunities/bulk", data={
        "csrf_token": token, "ids": [three["a1"]], "action": "remove_tag", "tag_id": tag_id(app)})
    listed = client.get(f"/crm/opportunities?tag={tag_id(app)}").get_data(as_text=True)
    assert ">A1<" not in listed and ">A2<" in listed
    with app.app_context():
        assert db.session.get(Opportunity, three["c1"]).tags == []


def test_bulk_lost_requires_a_reason_and_changes_nothing_without(app, client, users, three,
                                                                pipeline):
    login_as(client, users["rep_a"])
    token = csrf_token(client, "/crm/opportunities")
    response = client.post("/crm/opportunities/bulk", data={
        "csrf_token": token, "ids": [three["a1"], three["a2"]], "action": "lost"})
    assert "Choose why the opportunity was lost." in client.get(response.location).get_data(
        as_text=True)
    with app.app_context():
        assert {o.status for o in db.session.scalars(select(Opportunity))} == {"open"}
    client.post("/crm/opportunities/bulk", data={
        "csrf_token": token, "ids": [three["a1"], three["a2"]], "action": "lost",
        "loss_reason_id": pipeline["reasons"]["Mau atendimento"]})
    with app.app_context():
        assert db.session.get(Opportunity, three["a1"]).status == "lost"


def test_bulk_assign_stage_archive(app, client, users, three, pipeline):
    login_as(client, users["manager"])
    token = csrf_token(client, "/crm/opportunities")
    ids = [three["a1"], three["a2"], three["c1"]]
    client.post("/crm/opportunities/bulk", data={"csrf_token": token, "ids": ids,
                                                 "action": "assign", "owner_id": users["rep_b"]})
    client.post("/crm/opportunities/bulk", data={
        "csrf_token": token, "ids": ids, "action": "stage",
        "stage_id": pipeline["stages"]["Negociação"]})
    client.post("/crm/opportunities/bulk", data={"csrf_token": token, "ids": [three["a1"]],
                                                 "action": "archive"})
    with app.app_context():
        a1, a2, c1 = (db.session.get(Opportunity, three[k]) for k in ("a1", "a2", "c1"))
        assert a1.owner_id == a2.owner_id == users["rep_b"]
        assert c1.owner_id == users["rep_c"]  # another team: out of the manager's scope
        assert a2.stage.name == "Negociação" and c1.stage.name == "Prospecção"
        assert a1.archived and not a2.archived
    listed = client.get("/crm/opportunities").get_data(as_text=True)
    assert ">A1<" not in listed and ">A2<" in listed
    assert ">A1<" in client.get("/crm/opportunities?archived=1").get_data(as_text=True)


def test_bulk_delete_needs_confirmation_saying_it_cannot_be_undone(app, client, users, three):
    login_as(client, users["rep_a"])
    token = csrf_token(client, "/crm/opportunities")
    response = client.post("/crm/opportunities/bulk", data={
        "csrf_token": token, "ids": [three["a1"], three["a2"]], "action": "delete"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "cannot be restored" in html and 'name="confirmed" value="1"' in html
    with app.app_context():
        assert count(Opportunity) == 3
    client.post("/crm/opportunities/bulk", data={
        "csrf_token": token, "ids": [three["a1"], three["a2"], three["c1"]],
        "action": "delete", "confirmed": "1"})
    with app.app_context():
        assert [o.title for o in db.session.scalars(select(Opportunity))] == ["C1"]
        assert count(OpportunityChange) == 1  # C1's "created"; the others' history went too


def test_single_delete_confirmation(app, client, users, three):
    login_as(client, users["rep_a"])
    url = f"/crm/opportunities/{three['a1']}/delete"
    assert "cannot be restored" in client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token(client, url), "confirmed": "1"})
    with app.app_context():
        assert db.session.get(Opportunity, three["a1"]) is None


# --- the form, drafts ---------------------------------------------------------------------------


def form_data(token, account_id, **extra):
    return {"csrf_token": token, "account_id": account_id, "title": "ERP + NFS-e",
            "items-0-description": "Licença", "items-0-quantity": "2",
            "items-0-unit_price": "1.000,00", **extra}


def test_creating_through_the_form_leads_to_the_first_action(app, client, users, account,
                                                             pipeline):
    login_as(client, users["rep_a"])
    url = f"/crm/opportunities/new?account_id={account}"
    response = client.post(url, data=form_data(csrf_token(client, url), account,
                                               stage_id=pipeline["stages"]["Prospecção"],
                                               owner_id=users["rep_a"]))
    assert response.status_code == 303
    with app.app_context():
        opportunity = db.session.scalars(select(Opportunity)).one()
        assert opportunity.estimated_value == Decimal("2000.00")
    assert response.location == f"/crm/actions/new?opportunity_id={opportunity.id}"


def test_form_errors_next_to_item_fields(client, users, account, pipeline):
    login_as(client, users["rep_a"])
    url = f"/crm/opportunities/new?account_id={account}"
    response = client.post(url, data=form_data(csrf_token(client, url), account,
                                               **{"items-0-quantity": "zero"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'name="items-0-quantity"' in html and "Use a quantity greater than zero." in html


def test_save_draft_then_finish_it(app, client, users, account, pipeline):
    login_as(client, users["rep_a"])
    url = f"/crm/opportunities/new?account_id={account}"
    token = csrf_token(client, url)
    # An unfinished, even invalid, form is kept as it is.
    response = client.post(url, data=form_data(token, account, title="", save_draft="1",
                                               **{"items-0-unit_price": "muito"}))
    assert response.status_code == 302
    with app.app_context():
        draft = db.session.scalars(select(OpportunityDraft)).one()
        assert draft.payload["items-0-unit_price"] == "muito"
        draft_id = draft.id
    assert ">(untitled)<" in client.get("/crm/drafts").get_data(as_text=True)
    restored = client.get(f"/crm/opportunities/new?draft={draft_id}").get_data(as_text=True)
    assert 'value="muito"' in restored and f'name="draft_id" type="hidden" value="{draft_id}"' \
        in restored
    response = client.post(url, data=form_data(token, account, draft_id=draft_id,
                                               stage_id=pipeline["stages"]["Prospecção"]))
    assert response.status_code == 303
    with app.app_context():
        assert count(OpportunityDraft) == 0 and count(Opportunity) == 1


def test_autosave_endpoint_and_draft_privacy(app, client, users, account):
    login_as(client, users["rep_a"])
    token = csrf_token(client, f"/crm/opportunities/new?account_id={account}")
    response = client.post("/crm/drafts/autosave", data=form_data(token, account),
                           headers={"Accept": "application/json"})
    draft_id = response.get_json()["draft_id"]
    again = client.post("/crm/drafts/autosave", data=form_data(token, account, title="Outra",
                                                               draft_id=draft_id))
    assert again.get_json()["draft_id"] == draft_id
    with app.app_context():
        assert db.session.get(OpportunityDraft, draft_id).title == "Outra"
    login_as(client, users["rep_b"])
    assert client.get(f"/crm/drafts/{draft_id}").status_code == 404
    assert client.get(f"/crm/opportunities/new?draft={draft_id}").status_code == 404


def test_funnel_counts_and_values_per_stage(client, users, account, pipeline, make_opportunity):
    make_opportunity(account, title="F1", items=[{"description": "x", "unit_price": "100"}])
    make_opportunity(account, title="F2", items=[{"description": "x", "unit_price": "250"}])
    make_opportunity(account, title="F3", stage_id=pipeline["stages"]["Negociação"])
    login_as(client, users["rep_a"])
    html = client.get("/crm/funnel").get_data(as_text=True)
    prospect = pipeline["stages"]["Prospecção"]
    column = html[html.index(f'data-stage-id="{prospect}" data-count='):]
    assert column.startswith(f'data-stage-id="{prospect}" data-count="2" data-total="350.00"')
    assert 'name="stage_id"' in html  # the no-JavaScript stage selector


def test_funnel_columns_are_bounded_with_more(app, client, users, account, pipeline,
                                              make_opportunity):
    app.config["CRM_FUNNEL_CARDS"] = 2
    try:
        for i in range(3):
            make_opportunity(account, title=f"Card {i}")
        login_as(client, users["rep_a"])
        html = client.get("/crm/funnel").get_data(as_text=True)
        assert html.count('class="card mb-2 funnel-card"') == 2 and "1 more" in html
        prospect = pipeline["stages"]["Prospecção"]
        html = client.get(f"/crm/funnel?limit_{prospect}=4").get_data(as_text=True)
        assert html.count('class="card mb-2 funnel-card"') == 3
    finally:
        app.config.pop("CRM_FUNNEL_CARDS")


def test_watcher_mail_survives_a_down_smtp_server(app, users, account, pipeline,
                                                  make_opportunity, start_smtp, closed_port,
                                                  mail_config):
    """The whole path: a change, its mail queued with it, SMTP down, then delivered."""
    from datetime import timedelta

    from erp.db import utcnow
    from erp.mail import deliver_due

    mail_config(ERP_MAIL_PORT=closed_port, ERP_BASE_URL="http://erp.example")
    opportunity_id = make_opportunity(account, title="Vigiada",
                                      watcher_ids=[users["manager"]])
    with app.app_context():
        service.move_to_stage(db.session.get(Opportunity, opportunity_id),
                              pipeline["stages"]["Negociação"], user=user(users))
        now = utcnow()
        assert deliver_due(now=now).sent == 0  # the server is down: kept for later
        server = start_smtp()
        mail_config(ERP_MAIL_PORT=server.port)
        # Two mails: "created" (the watcher learns they follow it) and the stage change.
        assert deliver_due(now=now + timedelta(minutes=5)).sent == 2
    assert len(server.envelopes) == 2
    received = [server.handler.parsed(i) for i in range(2)]
    assert {m["To"] for m in received} == {"manager@example.com"}
    assert all("Vigiada" in m["Subject"] for m in received)
    assert any("Prospecção → Negociação" in m.get_content() for m in received)
    # Delivered by a worker, outside any request: the link is still a full address.
    assert all("http://erp.example/crm/opportunities/" in m.get_content() for m in received)
