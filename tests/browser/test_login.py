"""Signing in through a real browser: redirects, CSRF, the menu and the admin area."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from erp.auth.models import User
from erp.db import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

LOGIN_URL = re.compile(r"/auth/login(\?.*)?$")


def sign_in(page, username: str, password: str = PASSWORD):
    page.goto("/")
    expect(page).to_have_url(LOGIN_URL)
    page.get_by_label("User name or e-mail").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def display_name(app, user_id: int) -> str:
    with app.app_context():
        name = db.session.get(User, user_id).name
        db.session.remove()
    return name


def test_admin_signs_in_and_sees_every_module(app, page, users):
    admin_name = display_name(app, users["admin"])
    sign_in(page, "admin")

    expect(page).not_to_have_url(LOGIN_URL)
    menu = page.locator("#erp-menu a[data-menu]")
    expect(menu.first).to_be_visible()
    keys = {menu.nth(i).get_attribute("data-menu") for i in range(menu.count())}
    assert {"crm", "sales", "finance", "service"} <= keys
    expect(page.locator("#user-menu")).to_have_text(admin_name)

    response = page.goto("/admin/")
    assert response is not None and response.status == 200
    expect(page.get_by_text("Installed modules")).to_be_visible()
    expect(page.get_by_text(admin_name, exact=True)).to_be_visible()


def test_wrong_password_shows_the_error_and_stays_on_the_login_page(page, users):
    sign_in(page, "admin", "not the password")

    expect(page).to_have_url(LOGIN_URL)
    password = page.get_by_label("Password")
    expect(password).to_have_class(re.compile(r"\bis-invalid\b"))
    error = page.locator("#password ~ .invalid-feedback")
    expect(error).to_have_text("Wrong user name or password.")
    expect(error).to_be_visible()
    expect(page.locator("#erp-menu")).to_have_count(0)


def test_sales_rep_is_refused_the_admin_area(page, users):
    sign_in(page, "rep_a")
    expect(page).not_to_have_url(LOGIN_URL)
    expect(page.locator("#erp-menu a[data-menu='sales']")).to_be_visible()

    response = page.goto("/admin/")
    assert response is not None and response.status == 403
    expect(page.get_by_text("Access denied")).to_be_visible()
