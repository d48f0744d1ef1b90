"""CRM settings pages: stages (with their limit), loss reasons and tags, for the sales manager."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from erp.auth.models import User
from erp.db import db
from modules.crm.models import (
    STATUS_LOST,
    Account,
    LossReason,
    Opportunity,
    Stage,
    Tag,
    account_tags,
    opportunity_tags,
)
from tests.conftest import csrf_token, login_as

STAGES = "/crm/settings/stages"
REASONS = "/crm/settings/loss-reasons"
TAGS = "/crm/settings/tags"


@pytest.fixture
def manager(client, users):
    login_as(client, users["manager"])
    return client


def post(client, url: str, token_url: str, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, token_url), **data})


def stage_ids(app) -> dict[str, int]:
    with app.app_context():
        ids = {s.name: s.id for s in db.session.scalars(select(Stage))}
        db.session.remove()
    return ids


def add_opportunities(app, users, account_id: int, stage_id: int, count: int = 1,
                      **fields) -> list[int]:
    """Opportunities made straight from the model (the service is not under test here)."""
    with app.app_context():
        made = [Opportunity(title=f"Oportunidade {i}", account_id=account_id, stage_id=stage_id,
                            owner_id=users["rep_a"], **fields) for i in range(count)]
        db.session.add_all(made)
        db.session.commit()
        ids = [o.id for o in made]
        db.session.remove()
    return ids


def scalar(app, statement):
    with app.app_context():
        value = db.session.scalar(statement)
        db.session.remove()
    return value


# --- access ------------------------------------------------------------------------


def urls(app) -> list[tuple[str, str]]:
    """Every settings URL with its method, on existing records."""
    with app.app_context():
        stage, other = Stage(name="A", sequence=10), Stage(name="B", sequence=20)
        reason, tag = LossReason(name="Preço"), Tag(name="VIP")
        db.session.add_all([stage, other, reason, tag])
        db.session.commit()
        s, r, t = stage.id, reason.id, tag.id
        db.session.remove()
    return [
        ("GET", "/crm/settings"), ("GET", STAGES), ("POST", STAGES),
        ("GET", f"{STAGES}/{s}/edit"), ("POST", f"{STAGES}/{s}/edit"),
        ("POST", f"{STAGES}/{s}/delete"),
        ("GET", REASONS), ("POST", REASONS),
        ("GET", f"{REASONS}/{r}/edit"), ("POST", f"{REASONS}/{r}/edit"),
        ("POST", f"{REASONS}/{r}/archive"), ("POST", f"{REASONS}/{r}/delete"),
        ("GET", TAGS), ("POST", TAGS),
        ("GET", f"{TAGS}/{t}/edit"), ("POST", f"{TAGS}/{t}/edit"),
        ("POST", f"{TAGS}/{t}/delete"),
    ]


def test_a_sales_rep_gets_403_everywhere(app, client, users):
    login_as(client, users["rep_a"])
    token = csrf_token(client, "/crm/accounts")
    for method, url in urls(app):
        response = client.open(url, method=method, data={"csrf_token": token, "name": "X"})
        assert response.status_code == 403, (method, url)
    assert scalar(app, select(func.count(Stage.id))) == 2  # nothing changed


def test_anonymous_is_sent_to_login(app, client, users):
    token = csrf_token(client)
    for method, url in urls(app):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, url)
        assert "/auth/login" in response.headers["Location"]


def test_posts_without_csrf_are_refused(app, manager):
    for method, url in urls(app):
        if method == "POST":
            assert manager.post(url, data={"name": "Z"}).status_code == 400, url
    assert scalar(app, select(func.count(Stage.id))) == 2
    assert scalar(app, select(func.count(Tag.id))) == 1


def test_the_manager_sees_the_settings_in_the_crm_navigation(app, manager, users):
    response = manager.get("/crm/settings")
    assert response.status_code == 302 and response.headers["Location"].endswith(STAGES)
    page = manager.get(STAGES).get_data(as_text=True)
    assert 'id="settings-tabs"' in page and "/crm/settings/loss-reasons" in page
    assert 'href="/crm/settings"' in page  # the CRM sub-navigation's entry
    login_as(manager, users["rep_a"])
    assert 'href="/crm/settings"' not in manager.get("/crm/accounts").get_data(as_text=True)


# --- stages --------------------------------------------------------------------------


def test_the_manager_lists_adds_edits_and_deletes_stages(app, manager):
    page = manager.get(STAGES).get_data(as_text=True)
    assert "No stages yet." in page and "0 of 5 stages" in page

    response = post(manager, STAGES, STAGES, name="  Prospecção ", description="Primeiro contato")
    assert response.status_code == 303 and response.headers["Location"].endswith(STAGES)
    post(manager, STAGES, STAGES, name="Proposta")
    page = manager.get(STAGES).get_data(as_text=True)
    assert "Stage Proposta added." in page and "2 of 5 stages" in page
    assert "Primeiro contato" in page
    ids = stage_ids(app)
    with app.app_context():
        assert [s.sequence for s in db.session.scalars(select(Stage).order_by(Stage.id))] == [
            10, 20]

    edit = f"{STAGES}/{ids['Proposta']}/edit"
    assert 'value="Proposta"' in manager.get(edit).get_data(as_text=True)
    response = post(manager, edit, edit, name="Proposta enviada", description="", sequence="5")
    assert response.status_code == 303
    with app.app_context():
        stage = db.session.get(Stage, ids["Proposta"])
        assert (stage.name, stage.sequence) == ("Proposta enviada", 5)
    page = manager.get(STAGES).get_data(as_text=True)
    assert page.index("Proposta enviada") < page.index("Prospecção")  # ordered by sequence

    bad = post(manager, edit, edit, name="Proposta enviada", sequence="abc")
    assert bad.status_code == 422 and "Use a whole number." in bad.get_data(as_text=True)

    response = post(manager, f"{STAGES}/{ids['Proposta']}/delete", STAGES)
    assert response.status_code == 303
    assert stage_ids(app) == {"Prospecção": ids["Prospecção"]}
    assert "Stage Proposta enviada deleted." in manager.get(STAGES).get_data(as_text=True)


def test_the_last_stage_cannot_be_deleted(app, manager):
    post(manager, STAGES, STAGES, name="Única")
    only = stage_ids(app)["Única"]
    response = post(manager, f"{STAGES}/{only}/delete", STAGES)
    assert response.status_code == 422
    assert "The funnel needs at least one stage." in response.get_data(as_text=True)
    assert stage_ids(app) == {"Única": only}


def test_stage_names_are_required_and_unique_ignoring_case(app, manager):
    post(manager, STAGES, STAGES, name="Negociação")
    response = post(manager, STAGES, STAGES, name="NEGOCIAÇÃO")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "This name is already in use." in page
    assert "is-invalid" in page  # next to the field
    response = post(manager, STAGES, STAGES, name="   ")
    assert response.status_code == 422
    assert "The name is required." in response.get_data(as_text=True)
    post(manager, STAGES, STAGES, name="Fechamento")
    edit = f"{STAGES}/{stage_ids(app)['Fechamento']}/edit"
    response = post(manager, edit, edit, name="negociação")
    assert response.status_code == 422
    assert "This name is already in use." in response.get_data(as_text=True)
    assert set(stage_ids(app)) == {"Negociação", "Fechamento"}


def test_the_number_of_stages_is_limited_by_a_setting(app, manager, monkeypatch):
    for i in range(5):
        assert post(manager, STAGES, STAGES, name=f"Estágio {i}").status_code == 303
    page = manager.get(STAGES).get_data(as_text=True)
    assert "5 of 5 stages" in page and 'id="stage-limit-reached"' in page
    assert 'action="/crm/settings/stages"' not in page  # the add form is gone

    response = post(manager, STAGES, STAGES, name="Sexto")
    assert response.status_code == 422
    assert "The funnel has the maximum of 5 stages." in response.get_data(as_text=True)
    assert len(stage_ids(app)) == 5

    monkeypatch.setitem(app.config, "CRM_MAX_STAGES", 6)
    page = manager.get(STAGES).get_data(as_text=True)
    assert "5 of 6 stages" in page and 'action="/crm/settings/stages"' in page
    assert post(manager, STAGES, STAGES, name="Sexto").status_code == 303
    assert len(stage_ids(app)) == 6

    monkeypatch.setitem(app.config, "CRM_MAX_STAGES", 3)
    page = manager.get(STAGES).get_data(as_text=True)
    assert "6 of 3 stages" in page and 'id="stage-limit-reached"' in page
    response = post(manager, STAGES, STAGES, name="Sétimo")
    assert response.status_code == 422
    assert "The funnel has the maximum of 3 stages." in response.get_data(as_text=True)
    edit = f"{STAGES}/{stage_ids(app)['Sexto']}/edit"
    assert post(manager, edit, edit, name="Sexto renomeado").status_code == 303  # still editable


def test_deleting_a_stage_with_opportunities_moves_them(app, manager, users, make_account):
    for name in ("Prospecção", "Proposta", "Negociação"):
        post(manager, STAGES, STAGES, name=name)
    ids = stage_ids(app)
    account_id = make_account()
    moving = add_opportunities(app, users, account_id, ids["Proposta"], count=3)
    add_opportunities(app, users, account_id, ids["Negociação"])

    page = manager.get(STAGES).get_data(as_text=True)
    row = page[page.index(f'id="stage-{ids["Proposta"]}"'):]
    row = row[:row.index("</tr>")]
    assert 'class="text-end stage-count">3<' in row
    assert f'id="move_to-{ids["Proposta"]}"' in row and "data-confirm=" in row
    assert f'<option value="{ids["Prospecção"]}">' in row
    assert f'<option value="{ids["Proposta"]}">' not in row  # not to itself

    url = f"{STAGES}/{ids['Proposta']}/delete"
    for move_to in ("", str(ids["Proposta"]), "999"):
        response = post(manager, url, STAGES, move_to=move_to)
        assert response.status_code == 422
        assert "3 opportunities are in this stage" in response.get_data(as_text=True)
    assert "Proposta" in stage_ids(app)

    response = post(manager, url, STAGES, move_to=str(ids["Negociação"]))
    assert response.status_code == 303
    assert "Proposta" not in stage_ids(app)
    with app.app_context():
        assert {db.session.get(Opportunity, i).stage_id for i in moving} == {
            ids["Negociação"]}
    page = manager.get(STAGES).get_data(as_text=True)
    assert "3 opportunities moved to Negociação" in page
    assert 'class="text-end stage-count">4<' in page


def test_stage_counts_come_from_one_query(app, manager, users, make_account):
    from sqlalchemy import event

    for name in ("A", "B", "C"):
        post(manager, STAGES, STAGES, name=name)
    ids = stage_ids(app)
    account_id = make_account()
    for stage_id in ids.values():
        add_opportunities(app, users, account_id, stage_id, count=2)
    statements = []

    def count(conn, cursor, statement, *args):
        if "crm_opportunity" in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert manager.get(STAGES).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1 and "GROUP BY" in statements[0]


# --- loss reasons ----------------------------------------------------------------------


def reason_ids(app) -> dict[str, int]:
    with app.app_context():
        ids = {r.name: r.id for r in db.session.scalars(select(LossReason))}
        db.session.remove()
    return ids


def test_loss_reasons_are_added_renamed_and_unique(app, manager):
    assert "No loss reasons yet." in manager.get(REASONS).get_data(as_text=True)
    response = post(manager, REASONS, REASONS, name="Preço muito alto")
    assert response.status_code == 303
    response = post(manager, REASONS, REASONS, name="preço MUITO alto")
    assert response.status_code == 422
    assert "This name is already in use." in response.get_data(as_text=True)
    post(manager, REASONS, REASONS, name="Prazo longo")
    edit = f"{REASONS}/{reason_ids(app)['Prazo longo']}/edit"
    assert 'value="Prazo longo"' in manager.get(edit).get_data(as_text=True)
    assert post(manager, edit, edit, name="Prazo de entrega longo").status_code == 303
    assert post(manager, edit, edit, name="PREÇO muito alto").status_code == 422
    assert set(reason_ids(app)) == {"Preço muito alto", "Prazo de entrega longo"}
    page = manager.get(REASONS).get_data(as_text=True)
    assert "Prazo de entrega longo" in page


def test_a_reason_in_use_is_archived_not_deleted(app, manager, users, make_account):
    post(manager, REASONS, REASONS, name="Preço muito alto")
    post(manager, REASONS, REASONS, name="Mau atendimento")
    reasons = reason_ids(app)
    post(manager, STAGES, STAGES, name="Encerrado")
    add_opportunities(app, users, make_account(), stage_ids(app)["Encerrado"], count=2,
                      status=STATUS_LOST, loss_reason_id=reasons["Preço muito alto"])

    page = manager.get(REASONS).get_data(as_text=True)
    assert "In use: archive it instead of deleting." in page
    response = post(manager, f"{REASONS}/{reasons['Preço muito alto']}/delete", REASONS)
    assert response.status_code == 303
    page = manager.get(REASONS).get_data(as_text=True)
    assert "This reason explains 2 lost opportunities: archive it instead." in page
    assert "Preço muito alto" in reason_ids(app)

    url = f"{REASONS}/{reasons['Preço muito alto']}/archive"
    assert post(manager, url, REASONS, archived="1").status_code == 303
    with app.app_context():
        assert db.session.get(LossReason, reasons["Preço muito alto"]).archived is True
    page = manager.get(REASONS).get_data(as_text=True)
    row = page[page.index(f'id="reason-{reasons["Preço muito alto"]}"'):]
    assert "archived" in row[:200] and "Restore" in row[:row.index("</tr>")]
    assert post(manager, url, REASONS, archived="0").status_code == 303
    with app.app_context():
        assert db.session.get(LossReason, reasons["Preço muito alto"]).archived is False

    response = post(manager, f"{REASONS}/{reasons['Mau atendimento']}/delete", REASONS)
    assert response.status_code == 303
    assert set(reason_ids(app)) == {"Preço muito alto"}
    assert "Loss reason Mau atendimento deleted." in manager.get(REASONS).get_data(as_text=True)


# --- tags ---------------------------------------------------------------------------------


def tag_ids(app) -> dict[str, int]:
    with app.app_context():
        ids = {t.name: t.id for t in db.session.scalars(select(Tag))}
        db.session.remove()
    return ids


def test_tags_are_created_renamed_recoloured_and_deleted(app, manager, users, make_account):
    assert "No tags yet." in manager.get(TAGS).get_data(as_text=True)
    page = manager.get(TAGS).get_data(as_text=True)
    assert 'type="color"' in page and '<label class="form-label" for="color">' in page

    assert post(manager, TAGS, TAGS, name="Cliente VIP", color="#0d6efd").status_code == 303
    response = post(manager, TAGS, TAGS, name="cliente vip", color="#000000")
    assert response.status_code == 422
    assert "This name is already in use." in response.get_data(as_text=True)
    response = post(manager, TAGS, TAGS, name="Outro", color="azul")
    assert response.status_code == 422
    assert "Use a colour such as #0d6efd." in response.get_data(as_text=True)

    tag_id = tag_ids(app)["Cliente VIP"]
    page = manager.get(TAGS).get_data(as_text=True)
    assert 'data-erp-color="#0d6efd"' in page  # erp.js paints it (no style attribute: CSP)

    edit = f"{TAGS}/{tag_id}/edit"
    assert post(manager, edit, edit, name="Cliente Ouro", color="#ffc107").status_code == 303
    with app.app_context():
        tag = db.session.get(Tag, tag_id)
        assert (tag.name, tag.color) == ("Cliente Ouro", "#ffc107")

    account_id = make_account()
    post(manager, STAGES, STAGES, name="Prospecção")
    [opportunity_id] = add_opportunities(app, users, account_id, stage_ids(app)["Prospecção"])
    with app.app_context():
        db.session.execute(account_tags.insert().values(account_id=account_id, tag_id=tag_id))
        db.session.execute(opportunity_tags.insert().values(opportunity_id=opportunity_id,
                                                            tag_id=tag_id))
        db.session.commit()
    page = manager.get(TAGS).get_data(as_text=True)
    assert "This removes it from 2 records." in page

    assert post(manager, f"{TAGS}/{tag_id}/delete", TAGS).status_code == 303
    assert tag_ids(app) == {}
    assert "it was removed from 2 records" in manager.get(TAGS).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Account, account_id).tags == []
        assert db.session.get(Opportunity, opportunity_id).tags == []


def test_missing_records_are_404(app, manager):
    assert manager.get(f"{STAGES}/999/edit").status_code == 404
    assert post(manager, f"{REASONS}/999/delete", REASONS).status_code == 404
    assert post(manager, f"{TAGS}/999/delete", TAGS).status_code == 404


def test_admins_manage_settings_too(app, client, users):
    login_as(client, users["admin"])
    assert client.get(TAGS).status_code == 200
    with app.app_context():
        assert db.session.get(User, users["admin"]).has_permission("crm.manage")
