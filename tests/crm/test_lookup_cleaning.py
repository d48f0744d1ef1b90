"""Issue 19, point 5: CNPJ lookup answers cleaned as they are read — whitespace collapsed in
every text field, the registration status in one case and shown translated, a warning
(with the date) for a company not active, an answer about another CNPJ refused — and a
total deadline for the whole request, against a local server that trickles its answer."""

from __future__ import annotations

import threading
import time
from dataclasses import fields
from datetime import date

import pytest
from werkzeug import Response

from erp.db import db
from modules.crm.lookup import CompanyData, normalize_status, parse_brasilapi, status_label
from modules.crm.models import Account
from modules.crm.models.lookup_cache import CnpjLookup
from modules.crm.services.lookup import lookup_cnpj, result_to_json
from tests.conftest import login_as
from tests.crm import test_lookup as base
from tests.crm.test_lookup import NUMERIC, NUMERIC_PAYLOAD, PATH, serve

lookup_app = base.lookup_app  # the fixture: an app whose lookup asks the local server

SPACED = {
    **NUMERIC_PAYLOAD,
    "razao_social": "EMPRESA  COM   ESPACOS  LTDA",
    "nome_fantasia": "  MOSAICO   ",
    "complemento": "APT   34",
    "logradouro": "PAULISTA \t 1",
    "descricao_tipo_de_logradouro": " AVENIDA ",
    "bairro": "BELA\u00a0 VISTA",
    "municipio": "SAO   PAULO",
    "numero": " 1578 ",
    "cnae_fiscal_descricao": "Desenvolvimento  de programas\n de computador",
    "email": " Contato@Mosaico.com.br ",
    "ddd_telefone_1": "11  2385 193",  # not a phone number: kept, collapsed
}


def _texts(data: CompanyData) -> dict[str, str]:
    return {f.name: getattr(data, f.name) for f in fields(data)
            if isinstance(getattr(data, f.name), str)}


# --- Whitespace --------------------------------------------------------------------------------


def test_every_text_field_has_its_whitespace_collapsed():
    data = parse_brasilapi(NUMERIC, SPACED)
    assert data.legal_name == "EMPRESA COM ESPACOS LTDA"
    assert data.trade_name == "MOSAICO"
    assert data.complement == "APT 34"
    assert data.street == "AVENIDA PAULISTA 1"
    assert data.district == "BELA VISTA"
    assert data.city == "SAO PAULO"
    assert data.number == "1578"
    assert data.main_activity == "6201-5/01 - Desenvolvimento de programas de computador"
    assert data.email == "contato@mosaico.com.br"
    assert data.phone == "11 2385 193"
    for name, value in _texts(data).items():
        assert value == value.strip() and "  " not in value and "\t" not in value, name


def test_a_cached_answer_from_before_the_cleaning_is_read_clean():
    old = {"cnpj": NUMERIC, "legal_name": "EMPRESA  COM   ESPACOS  LTDA",
           "complement": "APT   34", "status": "Baixada", "opened_on": "2015-03-02"}
    data = CompanyData.from_dict(old)
    assert (data.legal_name, data.complement, data.status) == (
        "EMPRESA COM ESPACOS LTDA", "APT 34", "BAIXADA")


# --- Status ------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["ATIVA", "Ativa", " ativa ", "ATIVA  "])
def test_the_status_has_one_spelling_whatever_the_provider_sends(given):
    data = parse_brasilapi(NUMERIC, {**NUMERIC_PAYLOAD, "descricao_situacao_cadastral": given})
    assert data.status == "ATIVA"
    assert normalize_status(given) == "ATIVA"


def test_a_status_given_only_as_a_code_is_named():
    payload = {**NUMERIC_PAYLOAD, "descricao_situacao_cadastral": "", "situacao_cadastral": 4}
    assert parse_brasilapi(NUMERIC, payload).status == "INAPTA"


def test_the_status_is_shown_translated(app):
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        assert status_label("Ativa") == "Ativa"
        assert status_label("BAIXADA") == "Baixada"
        assert status_label("estranha") == "estranha"  # unknown: as it is
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from flask_babel import force_locale

        with force_locale("en"):
            assert status_label("ATIVA") == "Active"
            assert status_label("suspensa") == "Suspended"


# --- Companies not active ----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "label"), [("BAIXADA", "Baixada"), ("Inapta", "Inapta"),
                                               ("SUSPENSA", "Suspensa"), ("NULA", "Nula")])
def test_a_company_not_active_gets_a_warning_with_the_date(lookup_app, httpserver, status,
                                                           label):
    serve(httpserver, NUMERIC, {**NUMERIC_PAYLOAD, "descricao_situacao_cadastral": status,
                                "data_situacao_cadastral": "2026-09-01"})
    app = lookup_app(BABEL_DEFAULT_LOCALE="pt_BR")
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        result = lookup_cnpj(NUMERIC)
        assert result.data.status == status.upper()
        assert result.data.status_on == date(2026, 9, 1)
        body, http_status = result_to_json(result)
    assert http_status == 200
    assert body["status_label"] == label
    assert body["status_warning"] == (
        f"A Receita Federal registra esta empresa como {label} desde 01/09/2026: verifique "
        "antes de fazer negócio com ela.")
    assert body["data"]["status_on"] == "2026-09-01"


def test_an_active_company_gets_no_warning(lookup_app, httpserver):
    serve(httpserver, NUMERIC, {**NUMERIC_PAYLOAD, "descricao_situacao_cadastral": "Ativa"})
    app = lookup_app()
    with app.test_request_context():
        body, _status = result_to_json(lookup_cnpj(NUMERIC))
    assert body["data"]["status"] == "ATIVA"
    assert body["status_warning"] is None and body["warning"] is None


# --- Another CNPJ in the answer ----------------------------------------------------------------


def test_an_answer_about_another_cnpj_is_refused(lookup_app, httpserver):
    serve(httpserver, NUMERIC, {**NUMERIC_PAYLOAD, "cnpj": "11444777000161",
                                "razao_social": "OUTRA EMPRESA LTDA"})
    app = lookup_app()
    with app.test_request_context():
        result = lookup_cnpj(NUMERIC)
        body, status = result_to_json(result)
        assert db.session.get(CnpjLookup, NUMERIC) is None  # nothing of it kept
    assert result.data is None and result.error_code == "mismatch"
    assert status == 502
    assert body["error"]["code"] == "mismatch"
    assert "another company" in body["error"]["message"]


def test_an_answer_with_the_cnpj_formatted_is_the_same_cnpj(lookup_app, httpserver):
    serve(httpserver, NUMERIC, {**NUMERIC_PAYLOAD, "cnpj": "11.222.333/0001-81"})
    app = lookup_app()
    with app.app_context():
        assert lookup_cnpj(NUMERIC).error_code is None


# --- A total deadline --------------------------------------------------------------------------


def test_a_provider_trickling_its_answer_is_cut_off_at_the_deadline(lookup_app, httpserver):
    """60 bytes every 0.2 s: each read is quick, the whole answer would take about 8 s. A
    per-read timeout (the old one) waited for all of it and accepted it; the total deadline
    of 1 s gives up at about 1 s."""
    stop = threading.Event()
    body = (b'{"razao_social": "MOSAICO TECNOLOGIA LTDA", "filler": "'
            + b"x" * 2400 + b'"}')

    def trickle():
        for start in range(0, len(body), 60):
            if stop.is_set():
                return
            yield body[start:start + 60]
            time.sleep(0.2)

    httpserver.expect_request(PATH.format(NUMERIC)).respond_with_handler(
        lambda request: Response(trickle(), content_type="application/json"))
    app = lookup_app(CRM_CNPJ_LOOKUP_TIMEOUT=1.0)
    try:
        with app.app_context():
            started = time.monotonic()
            result = lookup_cnpj(NUMERIC)
            elapsed = time.monotonic() - started
            assert db.session.get(CnpjLookup, NUMERIC) is None
        assert (result.data, result.error_code) == (None, "timeout")
        # About the deadline, far from the ~8 s the answer takes to arrive.
        assert elapsed < 2.5
    finally:
        stop.set()


def test_an_answer_in_a_few_chunks_within_the_deadline_is_accepted(lookup_app, httpserver):
    import json

    body = json.dumps(NUMERIC_PAYLOAD).encode()

    def chunks():
        for start in range(0, len(body), 500):
            yield body[start:start + 500]
            time.sleep(0.05)

    httpserver.expect_request(PATH.format(NUMERIC)).respond_with_handler(
        lambda request: Response(chunks(), content_type="application/json"))
    app = lookup_app(CRM_CNPJ_LOOKUP_TIMEOUT=3.0)
    with app.app_context():
        result = lookup_cnpj(NUMERIC)
    assert result.error_code is None
    assert result.data.legal_name == "MOSAICO TECNOLOGIA LTDA"


# --- The web form's route and the account -------------------------------------------------------


def test_the_form_route_answers_the_cleaned_data_and_the_warning(app, client, users,
                                                                 httpserver):
    serve(httpserver, NUMERIC, {**SPACED, "descricao_situacao_cadastral": "Baixada",
                                "data_situacao_cadastral": "2026-09-01"})
    app.config.update(CRM_CNPJ_LOOKUP_ENABLED=True,
                      CRM_CNPJ_LOOKUP_URL=httpserver.url_for("").rstrip("/"))
    try:
        login_as(client, users["rep_a"])
        response = client.get("/crm/lookup/cnpj?cnpj=11.222.333/0001-81",
                              headers={"Accept-Language": "pt-BR"})
        assert response.status_code == 200
        body = response.get_json()
        assert body["data"]["legal_name"] == "EMPRESA COM ESPACOS LTDA"
        assert body["data"]["complement"] == "APT 34"
        assert body["data"]["status"] == "BAIXADA"
        assert body["status_label"] == "Baixada"
        assert "desde 01/09/2026" in body["status_warning"]
        # The form shows the warning in amber (the script's "warning" tone), not green.
        page = client.get("/crm/accounts/new")
        assert page.status_code == 200
        assert b'id="cnpj-lookup"' in page.data
    finally:
        app.config.update(CRM_CNPJ_LOOKUP_ENABLED=False)


def test_the_account_keeps_the_status_code_and_shows_it_translated(app, client, users,
                                                                   make_account):
    from erp.auth.models import User
    from modules.crm.services.accounts import clean_account

    with app.app_context():
        user = db.session.get(User, users["rep_a"])
        cleaned = clean_account({"legal_name": "Empresa Baixada Ltda",
                                 "registry_status": " Baixada "}, user=user)
        assert cleaned["registry_status"] == "BAIXADA"
    account_id = make_account(owner="rep_a", legal_name="Empresa Baixada Ltda")
    with app.app_context():
        db.session.get(Account, account_id).registry_status = "BAIXADA"
        db.session.commit()
    login_as(client, users["rep_a"])
    page = client.get(f"/crm/accounts/{account_id}", headers={"Accept-Language": "pt-BR"})
    assert '<dd class="col-7">Baixada</dd>' in page.get_data(as_text=True)


# --- The API ----------------------------------------------------------------------------------


def test_the_api_answers_the_cleaned_data_the_warning_and_the_refusals(app, client, users,
                                                                       httpserver):
    from tests.crm.api_support import api_as

    serve(httpserver, NUMERIC, {**SPACED, "descricao_situacao_cadastral": "inapta",
                                "data_situacao_cadastral": "2026-09-01"})
    api = api_as(app, client, users, "rep_a")
    off = api.get("/cnpj-lookup?cnpj=11222333000181")
    assert off.status_code == 503 and off.json["error"]["code"] == "disabled"
    app.config.update(CRM_CNPJ_LOOKUP_ENABLED=True,
                      CRM_CNPJ_LOOKUP_URL=httpserver.url_for("").rstrip("/"))
    try:
        found = api.get("/cnpj-lookup?cnpj=11.222.333/0001-81")
        assert found.status_code == 200, found.json
        assert found.json["data"]["legal_name"] == "EMPRESA COM ESPACOS LTDA"
        assert found.json["data"]["status"] == "INAPTA"
        assert found.json["data"]["status_on"] == "2026-09-01"
        assert found.json["status_warning"] and "09/01/2026" in found.json["status_warning"]
        bad = api.get("/cnpj-lookup?cnpj=123")
        assert bad.status_code == 422 and bad.json["error"]["fields"]["cnpj"]
        httpserver.clear()
        serve(httpserver, NUMERIC, {**NUMERIC_PAYLOAD, "cnpj": "11444777000161"})
        other = api.get("/cnpj-lookup?cnpj=11222333000181&refresh=true")
        assert other.status_code == 200  # the kept answer, with the refusal as a warning
        assert "another company" in other.json["warning"]
        assert other.json["data"]["legal_name"] == "EMPRESA COM ESPACOS LTDA"
    finally:
        app.config.update(CRM_CNPJ_LOOKUP_ENABLED=False)
