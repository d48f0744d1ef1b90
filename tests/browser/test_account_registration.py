"""Registering an account in a real browser: masks, the CNPJ lookup, saving."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_login import sign_in
from tests.crm.test_lookup import NUMERIC, NUMERIC_PAYLOAD, PATH

pytestmark = pytest.mark.browser


@pytest.fixture
def lookup_enabled(app, httpserver):
    """Point the running app's CNPJ lookup at a local server speaking BrasilAPI."""
    saved = {key: app.config.get(key) for key in ("CRM_CNPJ_LOOKUP_ENABLED",
                                                  "CRM_CNPJ_LOOKUP_URL")}
    app.config.update(CRM_CNPJ_LOOKUP_ENABLED=True,
                      CRM_CNPJ_LOOKUP_URL=httpserver.url_for("").rstrip("/"))
    httpserver.expect_request(PATH.format(NUMERIC)).respond_with_json(NUMERIC_PAYLOAD)
    yield httpserver
    app.config.update(saved)


def test_type_a_cnpj_look_it_up_and_save(page, users, lookup_enabled):
    sign_in(page, "rep_a")
    page.goto("/crm/accounts/new")
    tax_id = page.get_by_label("CNPJ / CPF")
    tax_id.press_sequentially("11222333000181")
    expect(tax_id).to_have_value("11.222.333/0001-81")  # the mask, as typed

    page.get_by_role("button", name="Look up CNPJ").click()
    status = page.locator("#lookup-status")
    expect(status).to_contain_text("Data from BrasilAPI as of")
    legal_name = page.get_by_label("Legal name")
    expect(legal_name).to_have_value(NUMERIC_PAYLOAD["razao_social"])
    expect(page.get_by_label("City")).to_have_value(re.compile(r"\S"))
    expect(page.get_by_label("CEP")).to_have_value(re.compile(r"^\d{5}-\d{3}$"))
    assert len(lookup_enabled.log) == 1

    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text(
        NUMERIC_PAYLOAD["nome_fantasia"] or NUMERIC_PAYLOAD["razao_social"])
    expect(page.locator("#account-tax-id")).to_have_text("11.222.333/0001-81")


def test_lookup_failure_leaves_the_form_usable(page, users, app, httpserver):
    app.config.update(CRM_CNPJ_LOOKUP_ENABLED=True,
                      CRM_CNPJ_LOOKUP_URL=httpserver.url_for("").rstrip("/"))
    httpserver.expect_request(PATH.format(NUMERIC)).respond_with_data("busy", status=429)
    try:
        sign_in(page, "rep_a")
        page.goto("/crm/accounts/new")
        page.get_by_label("CNPJ / CPF").fill("11.222.333/0001-81")
        page.get_by_role("button", name="Look up CNPJ").click()
        expect(page.locator("#lookup-status")).to_contain_text("too many requests")
        page.get_by_label("Legal name").fill("Preenchida à mão Ltda.")
        with page.expect_navigation():
            page.get_by_role("button", name="Save").click()
        expect(page.locator("h1")).to_contain_text("Preenchida à mão Ltda.")
    finally:
        app.config.update(CRM_CNPJ_LOOKUP_ENABLED=False)
