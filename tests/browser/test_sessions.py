"""Ending sessions from a real browser: two browsers (a laptop and a phone) signed in as
one user; what one does ends the other's session, remember cookie included."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

LOGIN_URL = re.compile(r"/auth/login(\?.*)?$")


@pytest.fixture
def device(browser, live_server):
    """Opens more browsers, each with its own cookies, signed in as the given user."""
    contexts = []

    def open_signed_in(username: str):
        context = browser.new_context(base_url=live_server, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.goto("/auth/login")
        page.get_by_label("User name or e-mail").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Keep me signed in").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(LOGIN_URL)
        return page

    yield open_signed_in
    for context in contexts:
        context.close()


def test_sign_out_of_other_devices_keeps_this_one(device, users):
    laptop, phone = device("rep_a"), device("rep_a")
    laptop.goto("/auth/preferences")
    dialogs = []
    laptop.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    with laptop.expect_navigation():
        laptop.get_by_role("button", name="Sign out of other devices").click()
    assert dialogs == ["Sign out of every other device?"]
    expect(laptop.get_by_text("You have been signed out of every other device.")).to_be_visible()

    phone.goto("/crm/accounts")
    expect(phone).to_have_url(LOGIN_URL)  # its remember cookie did not bring it back either
    laptop.goto("/crm/accounts")
    expect(laptop).not_to_have_url(LOGIN_URL)


def test_dismissing_the_confirmation_ends_nothing(device, users):
    laptop, phone = device("rep_a"), device("rep_a")
    laptop.goto("/auth/preferences")
    laptop.once("dialog", lambda dialog: dialog.dismiss())
    laptop.get_by_role("button", name="Sign out of other devices").click()
    phone.goto("/crm/accounts")
    expect(phone).not_to_have_url(LOGIN_URL)


def test_signing_out_signs_out_everywhere(device, users):
    laptop, phone = device("rep_a"), device("rep_a")
    laptop.locator("#user-menu").click()
    with laptop.expect_navigation():
        laptop.get_by_role("button", name="Sign out").click()
    expect(laptop).to_have_url(LOGIN_URL)
    phone.goto("/crm/accounts")
    expect(phone).to_have_url(LOGIN_URL)
