"""Issue 17, point 6 and the titles of point 8: labels that say what they do, in English and
pt-BR — an action's button reads as an action, a bulk delete says "deleted", a filter is named
by what it shows, "Close" is a button's verb, counts agree in number with their titles."""

from __future__ import annotations

import re

import pytest

from erp.auth.models import User
from erp.clock import local_today
from erp.db import db
from modules.crm.services import actions as action_service
from tests.conftest import csrf_token, login_as
from tests.reporting import html_table


def speaks(app, users, who: str, locale: str | None) -> None:
    with app.app_context():
        db.session.get(User, users[who]).locale = locale
        db.session.commit()


@pytest.fixture
def account(make_account):
    return make_account(legal_name="Silva Comércio de Peças Ltda.")


@pytest.mark.parametrize(("locale", "button"), [("en", "Mark done"),
                                                ("pt_BR", "Marcar como concluída")])
def test_agenda_button_is_an_action_not_a_status(app, client, users, account, locale, button):
    speaks(app, users, "rep_a", locale)
    with app.app_context(), app.test_request_context():
        action_service.create_action(
            {"account_id": account, "kind": "call", "at": f"{local_today().isoformat()}T23:00",
             "done": "0", "user_id": users["rep_a"]}, user=db.session.get(User, users["rep_a"]))
    login_as(client, users["rep_a"])
    html = client.get("/crm/agenda").get_data(as_text=True)
    buttons = re.findall(r'<button class="btn btn-sm btn-outline-success[^"]*" type="submit">'
                         r'([^<]*)</button>', html)
    assert buttons == [button]


@pytest.mark.parametrize(("locale", "deleted", "changed"), [
    ("en", "2 opportunities deleted.", "1 of 1 selected opportunity changed."),
    ("pt_BR", "2 oportunidades excluídas.", "1 de 1 oportunidade selecionada foi alterada."),
])
def test_bulk_messages_say_what_happened(app, client, users, make_account, make_opportunity,
                                         locale, deleted, changed):
    speaks(app, users, "rep_a", locale)
    mine = make_account(legal_name="Minha")
    ids = [make_opportunity(mine, title=f"O{n}") for n in range(3)]
    login_as(client, users["rep_a"])
    token = csrf_token(client, "/crm/opportunities")
    response = client.post("/crm/opportunities/bulk", data={
        "csrf_token": token, "ids": ids[:2], "action": "delete", "confirmed": "1"})
    page = client.get(response.location).get_data(as_text=True)
    assert deleted in page and "alterada" not in page and "changed" not in page
    response = client.post("/crm/opportunities/bulk", data={
        "csrf_token": token, "ids": ids[2:], "action": "archive"})
    assert changed in client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize(("locale", "label", "verb"), [("en", "Archived", "Archive"),
                                                       ("pt_BR", "Arquivadas", "Arquivar")])
def test_archive_filter_is_named_by_what_it_shows(app, client, users, locale, label, verb):
    speaks(app, users, "rep_a", locale)
    login_as(client, users["rep_a"])
    html = client.get("/crm/opportunities").get_data(as_text=True)
    select = html.index('name="archived"')
    field = html[html.rindex("<label", 0, select):select]
    assert f">{label}</label>" in field and f">{verb}<" not in field


def test_close_is_a_verb_and_the_funnel_zone_a_noun(app, client, users, account,
                                                     make_opportunity):
    speaks(app, users, "rep_a", "pt_BR")
    make_opportunity(account)
    login_as(client, users["rep_a"])
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        from modules.crm.views.opportunities import _

        assert _("Close") == "Fechar"  # CRM's catalog said "Fechamento" (a noun)
    html = client.get("/crm/funnel").get_data(as_text=True)
    assert 'class="funnel-close d-flex flex-column gap-2" aria-label="Fechamento"' in html


@pytest.mark.parametrize(("locale", "titles"), [
    ("en", {"created": "Created", "open": "Open", "won": "Won", "lost": "Lost"}),
    ("pt_BR", {"created": "Criadas", "open": "Abertas", "won": "Ganhas", "lost": "Perdidas"}),
])
def test_funnel_report_titles_agree_with_their_counts(app, client, users, account,
                                                      make_opportunity, locale, titles):
    speaks(app, users, "manager", locale)
    for n in range(2):
        make_opportunity(account, title=f"O{n}")
    login_as(client, users["manager"])
    html = client.get("/crm/reports/funnel").get_data(as_text=True)
    found = dict(re.findall(r'data-figure="(\w+)">\s*<dt[^>]*>([^<]*)</dt>', html))
    # Plural nouns above any count ("Ganhas" above 0, 1 or 22), never the singular status.
    assert {key: found[key] for key in titles} == titles


@pytest.mark.parametrize(("locale", "legends", "proposals"), [
    ("en", {"crm": "CRM", "sales": "Sales"}, ("Proposal activities", "Quote sent")),
    ("pt_BR", {"crm": "CRM", "sales": "Vendas"}, ("Atividades de proposta", "Proposta enviada")),
])
def test_timeline_kinds_are_grouped_by_module_with_distinct_labels(
        app, client, users, account, locale, legends, proposals):
    speaks(app, users, "rep_a", locale)
    login_as(client, users["rep_a"])
    html = client.get(f"/crm/accounts/{account}?tab=timeline").get_data(as_text=True)
    groups = re.findall(r'<fieldset class="timeline-kind-group[^"]*" data-module="(\w+)">\s*'
                        r'<legend[^>]*>([^<]*)</legend>(.*?)</fieldset>', html, re.S)
    found = {module: legend for module, legend, _body in groups}
    assert {module: found.get(module) for module in legends} == legends
    labels = []
    for module, _legend, body in groups:
        kinds = re.findall(r'name="kind" value="([\w.]+)"', body)
        assert kinds and all(kind.startswith(f"{module}.") for kind in kinds), module
        assert 'data-kind-group-toggle' in body  # its "all of this module" box
        labels += re.findall(r'<label class="form-check-label" for="kind-[^"]+">([^<]*)</label>',
                             body)
    assert len(labels) == len(set(labels))
    # CRM's logged proposals and sales' sent quotes no longer read as the same thing.
    assert proposals[0] in labels and proposals[1] in labels
    assert "Propostas" not in labels and "Proposals" not in labels


@pytest.mark.parametrize(("locale", "heading"), [
    ("en", ["User", "Type", "Done", "Planned", "Overdue", "Total"]),
    ("pt_BR", ["Usuário", "Tipo", "Concluídas", "Planejadas", "Em atraso", "Total"]),
])
def test_report_columns_above_counts_are_plural(app, client, users, account, locale,
                                                heading):
    """The actions report's columns count actions: "Concluídas", not one's status."""
    speaks(app, users, "manager", locale)
    with app.app_context(), app.test_request_context():
        action_service.create_action(
            {"account_id": account, "kind": "call", "at": f"{local_today().isoformat()}T08:00",
             "done": "1", "user_id": users["rep_a"]}, user=db.session.get(User, users["rep_a"]))
    login_as(client, users["manager"])
    html = client.get("/crm/reports/actions").get_data(as_text=True)
    assert html_table(html, "actions-report")[0] == heading
