"""The CNPJ look-up against a real local HTTP server speaking BrasilAPI's format."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import date, timedelta

import pytest
from werkzeug import Response

from erp.db import db, utcnow
from modules.crm.lookup import (
    BrasilAPIProvider,
    CompanyData,
    CompanyNotFound,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from modules.crm.models.lookup_cache import CnpjLookup
from modules.crm.services.lookup import LookupResult, lookup_cnpj, result_to_json

NUMERIC = "11222333000181"
NUMERIC_TYPED = "11.222.333/0001-81"
ALNUM = "12ABC34501DE35"
ALNUM_TYPED = "12.abc.345/01de-35"
PATH = "/api/cnpj/v1/{}"

# Abridged from real BrasilAPI answers: the same field names, types and casing.
NUMERIC_PAYLOAD = {
    "uf": "SP",
    "cep": "01311902",
    "qsa": [
        {
            "pais": None,
            "nome_socio": "MARIA APARECIDA DOS SANTOS",
            "codigo_pais": None,
            "faixa_etaria": "Entre 41 a 50 anos",
            "cnpj_cpf_do_socio": "***123456**",
            "qualificacao_socio": "Sócio-Administrador",
            "codigo_faixa_etaria": 5,
            "data_entrada_sociedade": "2015-03-02",
            "identificador_de_socio": 2,
            "cpf_representante_legal": "***000000**",
            "nome_representante_legal": "",
            "codigo_qualificacao_socio": 49,
            "qualificacao_representante_legal": "Não informada",
            "codigo_qualificacao_representante_legal": 0,
        }
    ],
    "cnpj": NUMERIC,
    "pais": None,
    "email": "Contato@Mosaico-Tecnologia.com.br",
    "porte": "DEMAIS",
    "bairro": "BELA VISTA",
    "numero": "1578",
    "ddd_fax": "",
    "municipio": "SAO PAULO",
    "logradouro": "PAULISTA",
    "cnae_fiscal": 6201501,
    "codigo_pais": None,
    "complemento": "ANDAR 4 CONJ 42",
    "codigo_porte": 5,
    "razao_social": "MOSAICO TECNOLOGIA LTDA",
    "nome_fantasia": "MOSAICO",
    "capital_social": 150000,
    "ddd_telefone_1": "1123851939",
    "ddd_telefone_2": "",
    "opcao_pelo_mei": False,
    "descricao_porte": "",
    "codigo_municipio": 7107,
    "cnaes_secundarios": [
        {"codigo": 6204000, "descricao": "Consultoria em tecnologia da informação"}
    ],
    "natureza_juridica": "Sociedade Empresária Limitada",
    "situacao_especial": "",
    "opcao_pelo_simples": False,
    "situacao_cadastral": 2,
    "data_opcao_pelo_mei": None,
    "data_exclusao_do_mei": None,
    "cnae_fiscal_descricao": "Desenvolvimento de programas de computador sob encomenda",
    "codigo_municipio_ibge": 3550308,
    "data_inicio_atividade": "2015-03-02",
    "data_situacao_especial": None,
    "data_opcao_pelo_simples": None,
    "data_situacao_cadastral": "2015-03-02",
    "nome_cidade_no_exterior": "",
    "codigo_natureza_juridica": 2062,
    "data_exclusao_do_simples": None,
    "motivo_situacao_cadastral": 0,
    "ente_federativo_responsavel": "",
    "identificador_matriz_filial": 1,
    "qualificacao_do_responsavel": 49,
    "descricao_situacao_cadastral": "ATIVA",
    "descricao_tipo_de_logradouro": "AVENIDA",
    "descricao_motivo_situacao_cadastral": "SEM MOTIVO",
    "descricao_identificador_matriz_filial": "MATRIZ",
}

ALNUM_PAYLOAD = {
    "uf": "MG",
    "cep": "30130010",
    "qsa": [],
    "cnpj": ALNUM,
    "pais": None,
    "email": None,
    "porte": "MICRO EMPRESA",
    "bairro": "CENTRO",
    "numero": "S/N",
    "ddd_fax": "",
    "municipio": "BELO HORIZONTE",
    "logradouro": "DOS TUPIS",
    "cnae_fiscal": 111301,  # 0111-3/01: the leading zero is lost in the number
    "codigo_pais": None,
    "complemento": None,
    "codigo_porte": 1,
    "razao_social": "CAFE DAS GERAIS COMERCIO DE GRAOS LTDA",
    "nome_fantasia": "",
    "capital_social": 20000,
    "ddd_telefone_1": "31987654321",
    "ddd_telefone_2": "",
    "opcao_pelo_mei": False,
    "descricao_porte": "",
    "codigo_municipio": 4123,
    "cnaes_secundarios": [],
    "natureza_juridica": "Sociedade Empresária Limitada",
    "situacao_especial": "",
    "opcao_pelo_simples": True,
    "situacao_cadastral": 8,
    "data_opcao_pelo_mei": None,
    "data_exclusao_do_mei": None,
    "cnae_fiscal_descricao": "Cultivo de arroz",
    "codigo_municipio_ibge": 3106200,
    "data_inicio_atividade": "2026-07-15",
    "data_situacao_especial": None,
    "data_opcao_pelo_simples": "2026-07-15",
    "data_situacao_cadastral": "2026-09-01",
    "nome_cidade_no_exterior": "",
    "codigo_natureza_juridica": 2062,
    "data_exclusao_do_simples": None,
    "motivo_situacao_cadastral": 1,
    "ente_federativo_responsavel": "",
    "identificador_matriz_filial": 1,
    "qualificacao_do_responsavel": 49,
    "descricao_situacao_cadastral": "BAIXADA",
    "descricao_tipo_de_logradouro": "RUA",
    "descricao_motivo_situacao_cadastral": "EXTINCAO POR ENCERRAMENTO LIQUIDACAO VOLUNTARIA",
    "descricao_identificador_matriz_filial": "MATRIZ",
}


@pytest.fixture
def lookup_app(app, make_app, httpserver):
    """Build an app whose CNPJ lookup talks to the local server (``app``: clean tables)."""
    built = []

    def factory(**overrides):
        config = {
            "CRM_CNPJ_LOOKUP_ENABLED": True,
            "CRM_CNPJ_LOOKUP_URL": httpserver.url_for("").rstrip("/"),
            "CRM_CNPJ_LOOKUP_TIMEOUT": 0.5,
        }
        config.update(overrides)
        new_app = make_app(**config)
        with new_app.app_context():
            CnpjLookup.__table__.create(db.engine, checkfirst=True)
        built.append(new_app)
        return new_app

    yield factory
    for built_app in built:
        with built_app.app_context():
            db.session.remove()
            db.engine.dispose()


def serve(httpserver, cnpj, payload, status=200):
    httpserver.expect_request(
        PATH.format(cnpj), method="GET", headers={"User-Agent": "MosaicERP/0.1"}
    ).respond_with_json(payload, status=status)


def closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def cache_row(cnpj, payload_data: CompanyData, age: timedelta, provider="BrasilAPI"):
    db.session.add(CnpjLookup(cnpj=cnpj, provider=provider, payload=payload_data.to_dict(),
                              fetched_at=utcnow() - age))
    db.session.commit()


# --- Success and the cache ------------------------------------------------------------------


def test_numeric_cnpj_is_fetched_mapped_and_cached(lookup_app, httpserver):
    serve(httpserver, NUMERIC, NUMERIC_PAYLOAD)
    app = lookup_app()
    with app.app_context():
        before = utcnow()
        result = lookup_cnpj(NUMERIC_TYPED)

        assert result.error is None and result.error_code is None
        assert result.from_cache is False
        assert result.provider == "BrasilAPI"
        assert result.fetched_at >= before
        assert result.data == CompanyData(
            cnpj=NUMERIC,
            legal_name="MOSAICO TECNOLOGIA LTDA",
            trade_name="MOSAICO",
            street="AVENIDA PAULISTA",
            number="1578",
            complement="ANDAR 4 CONJ 42",
            district="BELA VISTA",
            city="SAO PAULO",
            state="SP",
            cep="01311902",
            main_activity="6201-5/01 - Desenvolvimento de programas de computador sob encomenda",
            status="ATIVA",
            opened_on=date(2015, 3, 2),
            phone="(11) 2385-1939",
            email="contato@mosaico-tecnologia.com.br",
            status_on=date(2015, 3, 2),
        )

        db.session.expire_all()
        row = db.session.get(CnpjLookup, NUMERIC)
        assert row is not None
        assert row.provider == "BrasilAPI"
        assert CompanyData.from_dict(row.payload) == result.data
        assert row.payload["opened_on"] == "2015-03-02"
    assert len(httpserver.log) == 1
    httpserver.check_assertions()


def test_alphanumeric_cnpj_is_normalized_and_fetched(lookup_app, httpserver):
    serve(httpserver, ALNUM, ALNUM_PAYLOAD)
    app = lookup_app(CRM_CNPJ_LOOKUP_PROVIDER_NAME="Receita (via BrasilAPI)")
    with app.app_context():
        result = lookup_cnpj(ALNUM_TYPED)
        assert result.error_code is None
        assert result.provider == "Receita (via BrasilAPI)"
        data = result.data
        assert data.cnpj == ALNUM
        assert data.legal_name == "CAFE DAS GERAIS COMERCIO DE GRAOS LTDA"
        assert data.trade_name == "" and data.complement == "" and data.email == ""
        assert data.street == "RUA DOS TUPIS"
        assert data.number == "S/N"
        assert (data.city, data.state, data.cep) == ("BELO HORIZONTE", "MG", "30130010")
        assert data.main_activity == "0111-3/01 - Cultivo de arroz"
        assert data.status == "BAIXADA"
        assert data.opened_on == date(2026, 7, 15)
        assert data.phone == "(31) 98765-4321"
        assert db.session.get(CnpjLookup, ALNUM).provider == "Receita (via BrasilAPI)"
    (request, _response), = httpserver.log
    assert request.path == PATH.format(ALNUM)


def test_second_lookup_is_served_from_the_cache(lookup_app, httpserver):
    serve(httpserver, NUMERIC, NUMERIC_PAYLOAD)
    app = lookup_app()
    with app.app_context():
        first = lookup_cnpj(NUMERIC)
        db.session.remove()
        second = lookup_cnpj(NUMERIC_TYPED)
    assert len(httpserver.log) == 1
    assert second.from_cache is True
    assert second.error is None
    assert second.data == first.data
    assert second.provider == "BrasilAPI"
    assert abs(second.fetched_at - first.fetched_at) < timedelta(seconds=1)
    assert second.fetched_at.tzinfo is not None


def test_refresh_fetches_again_and_updates_the_cache(lookup_app, httpserver):
    serve(httpserver, NUMERIC, NUMERIC_PAYLOAD)
    app = lookup_app()
    with app.app_context():
        first = lookup_cnpj(NUMERIC)
        httpserver.clear()
        serve(httpserver, NUMERIC, {**NUMERIC_PAYLOAD, "nome_fantasia": "MOSAICO ERP"})
        second = lookup_cnpj(NUMERIC, refresh=True)
        assert second.from_cache is False
        assert second.data.trade_name == "MOSAICO ERP"
        assert second.fetched_at > first.fetched_at
        db.session.expire_all()
        assert db.session.get(CnpjLookup, NUMERIC).payload["trade_name"] == "MOSAICO ERP"
        assert db.session.query(CnpjLookup).count() == 1
    assert len(httpserver.log) == 1  # since clear(): the refresh


def test_an_old_cache_row_is_fetched_again(lookup_app, httpserver):
    serve(httpserver, NUMERIC, NUMERIC_PAYLOAD)
    app = lookup_app(CRM_CNPJ_LOOKUP_CACHE_DAYS=7)
    with app.app_context():
        old = CompanyData(cnpj=NUMERIC, legal_name="MOSAICO TECNOLOGIA LTDA", trade_name="OLD")
        cache_row(NUMERIC, old, age=timedelta(days=8))
        result = lookup_cnpj(NUMERIC)
        assert result.from_cache is False
        assert result.data.trade_name == "MOSAICO"
    assert len(httpserver.log) == 1


# --- Provider failures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (404, {"message": "CNPJ 11222333000181 não encontrado.", "type": "not_found",
               "name": "NotFoundError"}, "not_found"),
        (429, {"message": "Too many requests"}, "rate_limited"),
        (500, {"message": "Internal server error"}, "unavailable"),
        (503, {"message": "Service unavailable"}, "unavailable"),
    ],
)
def test_http_errors_become_error_codes(lookup_app, httpserver, caplog, status, body, code):
    serve(httpserver, NUMERIC, body, status=status)
    app = lookup_app()
    with app.app_context(), caplog.at_level(logging.WARNING, logger="modules.crm.services.lookup"):
        result = lookup_cnpj(NUMERIC)
        assert result.data is None
        assert result.error_code == code
        assert str(result.error)
        assert db.session.get(CnpjLookup, NUMERIC) is None
    assert len(httpserver.log) == 1
    assert any(r.levelno == logging.WARNING and NUMERIC in r.getMessage()
               for r in caplog.records)


def test_not_json_is_unavailable(lookup_app, httpserver):
    httpserver.expect_request(PATH.format(NUMERIC)).respond_with_data(
        "<html>Bad gateway</html>", status=200, content_type="text/html")
    app = lookup_app()
    with app.app_context():
        result = lookup_cnpj(NUMERIC)
    assert (result.data, result.error_code) == (None, "unavailable")


def test_slow_provider_times_out(lookup_app, httpserver):
    release, answered = threading.Event(), threading.Event()

    def slow(request):
        release.wait(timeout=2.0)  # longer than the 0.5 s timeout, unless released
        answered.set()
        return Response("{}", content_type="application/json")

    httpserver.expect_request(PATH.format(NUMERIC)).respond_with_handler(slow)
    app = lookup_app(CRM_CNPJ_LOOKUP_TIMEOUT=0.5)
    try:
        with app.app_context():
            started = time.monotonic()
            result = lookup_cnpj(NUMERIC)
            elapsed = time.monotonic() - started
            assert result.data is None
            assert result.error_code == "timeout"
            assert str(result.error) == (
                "The CNPJ service did not answer in time. Try again, or fill in the form by hand."
            )
            assert db.session.get(CnpjLookup, NUMERIC) is None
        assert 0.4 < elapsed < 1.5
    finally:
        # Let the handler finish now, so its late answer is not logged in the next test.
        release.set()
        answered.wait(timeout=5)
        deadline = time.monotonic() + 5
        while not httpserver.log and time.monotonic() < deadline:
            time.sleep(0.01)


def test_body_that_stops_coming_times_out(lookup_app, httpserver):
    release, answered = threading.Event(), threading.Event()

    def stalled_body():
        yield b'{"razao_social": "MOSAICO'
        release.wait(timeout=2.0)
        answered.set()
        yield b'"}'

    httpserver.expect_request(PATH.format(NUMERIC)).respond_with_handler(
        lambda request: Response(stalled_body(), content_type="application/json"))
    app = lookup_app(CRM_CNPJ_LOOKUP_TIMEOUT=0.5)
    try:
        with app.app_context():
            result = lookup_cnpj(NUMERIC)
        assert (result.data, result.error_code) == (None, "timeout")
    finally:
        release.set()
        answered.wait(timeout=5)


def test_connection_refused_is_unavailable(lookup_app):
    app = lookup_app(CRM_CNPJ_LOOKUP_URL=closed_port_url())
    with app.app_context():
        result = lookup_cnpj(NUMERIC)
    assert result.data is None
    assert result.error_code == "unavailable"


def test_stale_cache_is_returned_with_the_error(lookup_app, httpserver):
    serve(httpserver, NUMERIC, {"message": "Internal server error"}, status=500)
    app = lookup_app()
    with app.app_context():
        old = CompanyData(cnpj=NUMERIC, legal_name="MOSAICO TECNOLOGIA LTDA",
                          city="SAO PAULO", opened_on=date(2015, 3, 2))
        cache_row(NUMERIC, old, age=timedelta(days=90), provider="BrasilAPI")
        result = lookup_cnpj(NUMERIC)
        assert result.data == old
        assert result.from_cache is True
        assert result.error_code == "unavailable"
        assert "not available" in str(result.error)
        assert utcnow() - result.fetched_at > timedelta(days=89)

        body, status = result_to_json(result)
    assert status == 200
    assert body["data"]["legal_name"] == "MOSAICO TECNOLOGIA LTDA"
    assert body["data"]["opened_on"] == "2015-03-02"
    assert body["from_cache"] is True
    assert body["warning"] and "not available" in body["warning"]
    assert len(httpserver.log) == 1


def test_refresh_with_a_failing_provider_keeps_the_fresh_cache(lookup_app, httpserver):
    httpserver.expect_request(PATH.format(NUMERIC)).respond_with_json({}, status=429)
    app = lookup_app()
    with app.app_context():
        cached = CompanyData(cnpj=NUMERIC, legal_name="MOSAICO TECNOLOGIA LTDA")
        cache_row(NUMERIC, cached, age=timedelta(hours=1))
        result = lookup_cnpj(NUMERIC, refresh=True)
    assert result.data == cached
    assert (result.from_cache, result.error_code) == (True, "rate_limited")


# --- Requests that are never sent -----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["11.222.333/0001-82", "1122233300018", "112223330001811", "", "00000000000000",
     "12ABC34501DE36", "ÇÃO"],
)
def test_invalid_cnpj_makes_no_request(lookup_app, httpserver, value):
    app = lookup_app()
    with app.app_context():
        result = lookup_cnpj(value)
        body, status = result_to_json(result)
    assert result.data is None
    assert result.error_code == "invalid"
    assert status == 400
    assert body == {"error": {"code": "invalid", "message": str(result.error)}}
    assert httpserver.log == []


def test_disabled_lookup_makes_no_request(make_app, app, httpserver):
    serve(httpserver, NUMERIC, NUMERIC_PAYLOAD)
    disabled = make_app(CRM_CNPJ_LOOKUP_URL=httpserver.url_for("").rstrip("/"))
    with disabled.app_context():
        result = lookup_cnpj(NUMERIC)
        body, status = result_to_json(result)
    assert result.data is None
    assert result.error_code == "disabled"
    assert "switched off" in str(result.error) and "by hand" in str(result.error)
    assert status == 503
    assert body["error"]["code"] == "disabled"
    assert httpserver.log == []


# --- The provider on its own, and the JSON answer -------------------------------------------


def test_provider_raises_lookup_errors(httpserver):
    url = httpserver.url_for("").rstrip("/")
    provider = BrasilAPIProvider(url, timeout=0.5)
    cases = [(404, CompanyNotFound), (400, CompanyNotFound), (429, RateLimited),
             (502, ProviderUnavailable), (403, ProviderUnavailable)]
    for status, error in cases:
        httpserver.clear()
        httpserver.expect_request(PATH.format(NUMERIC)).respond_with_json({}, status=status)
        with pytest.raises(error) as caught:
            provider.fetch(NUMERIC)
        assert isinstance(caught.value, LookupError)
    with pytest.raises(ProviderUnavailable):
        BrasilAPIProvider(closed_port_url(), timeout=0.5).fetch(NUMERIC)
    assert issubclass(ProviderTimeout, LookupError)


def test_company_data_round_trips_through_a_dict():
    data = CompanyData(cnpj=ALNUM, legal_name="X LTDA", opened_on=date(2026, 7, 15))
    as_dict = data.to_dict()
    assert as_dict["opened_on"] == "2026-07-15"
    assert as_dict["street"] == ""
    assert CompanyData.from_dict(as_dict) == data
    assert CompanyData.from_dict({**as_dict, "opened_on": None, "extra": 1}).opened_on is None


@pytest.mark.parametrize(
    ("code", "status"),
    [("not_found", 404), ("rate_limited", 429), ("timeout", 504), ("unavailable", 502),
     ("invalid", 400), ("disabled", 503)],
)
def test_result_to_json_statuses(app, code, status):
    from modules.crm.services.lookup import MESSAGES

    result = LookupResult(data=None, provider="BrasilAPI", fetched_at=utcnow(),
                          error=MESSAGES[code], error_code=code)
    with app.app_context():
        body, http_status = result_to_json(result)
    assert http_status == status
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_result_to_json_with_data(app):
    moment = utcnow()
    data = CompanyData(cnpj=NUMERIC, legal_name="MOSAICO TECNOLOGIA LTDA",
                       opened_on=date(2015, 3, 2))
    result = LookupResult(data=data, provider="BrasilAPI", fetched_at=moment)
    with app.app_context():
        body, status = result_to_json(result)
    assert status == 200
    assert body == {
        "data": data.to_dict(),
        "provider": "BrasilAPI",
        "fetched_at": moment.isoformat(),
        "from_cache": False,
        "warning": None,
        "status_label": None,  # no status known: no label, no warning
        "status_warning": None,
    }
