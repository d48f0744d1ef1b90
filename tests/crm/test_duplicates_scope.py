"""The duplicate check never names a record the user may not see (issue 13).

A rep registering an account with the CNPJ of another team's account is refused, but is
told only that it exists "in another portfolio": not its name, owner, id or link. On the
web form, in the API's 409 and in the import's row errors and preview notes. A duplicate
within the user's scope keeps its details.
"""

from __future__ import annotations

import io

import pytest

from erp.auth.models import User
from erp.db import db
from erp.imports import services
from modules.crm.models import Account
from tests.conftest import csrf_token, login_as
from tests.crm.api_support import Api, token_for
from tests.erp.importing import (
    count,
    csv_bytes,
    import_dir_fixture,  # noqa: F401 (the import_dir fixture)
    run_import,
)

CNPJ, CNPJ_BRANCH = "11.222.333/0001-81", "11.222.333/0002-62"
HIDDEN = "Segredo do Outro Time Ltda."
ELSEWHERE = "An account with this CNPJ/CPF already exists in another portfolio; ask a manager."


@pytest.fixture
def other_teams_account(make_account):
    """rep_c (other team) owns an account with CNPJ: outside rep_a's and the manager's scope."""
    return make_account("rep_c", legal_name=HIDDEN, tax_id=CNPJ, phone="(11) 3333-4444")


def _leaks(text: str, account_id: int) -> list[str]:
    return [s for s in (HIDDEN, "Rep_C", f"/crm/accounts/{account_id}") if s in text]


def _post_new(client, users, who: str, **data):
    login_as(client, users[who])
    form = {"csrf_token": csrf_token(client, "/crm/accounts/new"), "person_type": "PJ",
            "legal_name": "Nova Ltda.", "owner_id": str(users[who]), "lifecycle": "prospect",
            **data}
    return client.post("/crm/accounts/new", data=form)


# --- web -------------------------------------------------------------------------------------


def test_web_form_says_another_portfolio_and_names_nobody(app, client, users,
                                                          other_teams_account):
    for who in ("rep_a", "manager"):
        response = _post_new(client, users, who, tax_id=CNPJ)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert ELSEWHERE in html
        assert "An account in another portfolio (ask a manager)" in html
        assert not _leaks(html, other_teams_account), who
    assert count(app, Account) == 1


def test_web_form_keeps_the_details_of_a_duplicate_in_scope(app, client, users, make_account,
                                                            other_teams_account):
    mine = make_account("rep_a", legal_name="Minha Matriz Ltda.", tax_id="04.252.011/0001-10")
    response = _post_new(client, users, "rep_a", tax_id="04.252.011/0001-10")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This CNPJ/CPF is already registered." in html
    assert f'/crm/accounts/{mine}"' in html and "Minha Matriz Ltda." in html
    # The admin sees every account: rep_c's is named and linked for them.
    response = _post_new(client, users, "admin", tax_id=CNPJ)
    html = response.get_data(as_text=True)
    assert HIDDEN in html and f'/crm/accounts/{other_teams_account}"' in html


def test_web_similar_account_elsewhere_is_not_named_but_can_be_confirmed(
        app, client, users, other_teams_account):
    response = _post_new(client, users, "rep_a", tax_id=CNPJ_BRANCH)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "another branch?" in html
    assert not _leaks(html, other_teams_account)
    assert 'name="confirm_duplicates"' in html
    confirmed = _post_new(client, users, "rep_a", tax_id=CNPJ_BRANCH, confirm_duplicates="y")
    assert confirmed.status_code == 303


# --- API -------------------------------------------------------------------------------------


def test_api_409_has_no_name_owner_or_id_outside_the_scope(app, client, users,
                                                           other_teams_account):
    api = Api(client, token_for(app, users["rep_a"]))
    response = api.post("/accounts", json={"legal_name": "Nova", "tax_id": CNPJ})
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "duplicate" and error["message"] == ELSEWHERE
    assert error["duplicates"] == [{"id": None, "name": None, "owner": None,
                                    "reason": "tax_id", "blocking": True, "in_scope": False}]
    assert not _leaks(response.get_data(as_text=True), other_teams_account)
    similar = api.post("/accounts", json={"legal_name": "Nova", "phone": "(11) 3333-4444"})
    assert similar.status_code == 409 and similar.json["error"]["confirmable"] is True
    assert similar.json["error"]["duplicates"][0]["name"] is None
    assert not _leaks(similar.get_data(as_text=True), other_teams_account)


def test_api_409_keeps_details_in_scope(app, client, users, other_teams_account):
    api = Api(client, token_for(app, users["admin"]))
    error = api.post("/accounts", json={"legal_name": "Nova", "tax_id": CNPJ}).json["error"]
    assert error["duplicates"] == [{"id": other_teams_account, "name": HIDDEN,
                                    "owner": "Rep_C", "reason": "tax_id", "blocking": True,
                                    "in_scope": True}]


# --- import ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("import_dir")
def test_import_row_error_and_preview_note_name_nobody(app, users, other_teams_account):
    taken = run_import(app, users["rep_a"], "accounts",
                       csv_bytes([["Razão Social", "CNPJ"], ["Tomada", CNPJ]]))
    assert taken.rejected == 1
    assert "another portfolio; ask a manager" in taken.rejects
    assert not _leaks(taken.rejects, other_teams_account)

    content = csv_bytes([["Razão Social", "CNPJ", "Telefone"],
                         ["Filial", CNPJ_BRANCH, ""], ["Mesmo fone", "", "(11) 3333-4444"]])
    with app.app_context():
        for who, named in (("rep_a", False), ("admin", True)):
            user = db.session.get(User, users[who])
            job = services.store_upload(io.BytesIO(content), "c.csv", user=user, kind="accounts")
            services.save_mapping(job, job.mapping)
            notes = " ".join(str(row.plan.note) for row in services.preview(job, user).rows)
            assert "same CNPJ root as" in notes and "same phone as" in notes
            assert (HIDDEN in notes) is named, (who, notes)
            assert ("an account in another portfolio" in notes) is not named
        db.session.remove()
