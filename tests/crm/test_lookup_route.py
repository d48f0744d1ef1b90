"""The lookup as the account form calls it: JSON, guarded by permission."""

from __future__ import annotations

from tests.conftest import login_as
from tests.crm.test_lookup import NUMERIC, NUMERIC_PAYLOAD, PATH


def test_lookup_route_answers_json(app, client, users, httpserver):
    app.config.update(CRM_CNPJ_LOOKUP_ENABLED=True,
                      CRM_CNPJ_LOOKUP_URL=httpserver.url_for("").rstrip("/"))
    httpserver.expect_request(PATH.format(NUMERIC)).respond_with_json(NUMERIC_PAYLOAD)
    try:
        login_as(client, users["rep_a"])
        response = client.get("/crm/lookup/cnpj?cnpj=11.222.333/0001-81")
        assert response.status_code == 200
        body = response.get_json()
        assert body["data"]["legal_name"] == NUMERIC_PAYLOAD["razao_social"]
        assert body["provider"] == "BrasilAPI" and body["from_cache"] is False
        assert client.get("/crm/lookup/cnpj?cnpj=11222333000181").get_json()["from_cache"]
        bad = client.get("/crm/lookup/cnpj?cnpj=123")
        assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid"
    finally:
        app.config.update(CRM_CNPJ_LOOKUP_ENABLED=False)


def test_lookup_is_off_by_default_and_says_so(client, users):
    login_as(client, users["rep_a"])
    response = client.get("/crm/lookup/cnpj?cnpj=11222333000181")
    assert response.status_code == 503
    assert "switched off" in response.get_json()["error"]["message"]


def test_lookup_needs_write_permission_and_login(client, users):
    assert client.get("/crm/lookup/cnpj?cnpj=11222333000181").status_code == 302
    login_as(client, users["service"])
    assert client.get("/crm/lookup/cnpj?cnpj=11222333000181").status_code == 403
