"""The first login in a real browser: password, then setting up the authenticator from the
page (QR code drawn by the app, key to type by hand), recovery codes once, then the inbox."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django_otp.oath import TOTP

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_first_login_sets_up_the_authenticator_and_lands_in_the_inbox(new_page, officer_a):
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(officer_a.user.username)
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/enrol/$"))
    expect(page.locator("#otp-qr svg")).to_be_visible()
    # What a phone does with the key: compute the current code.
    key = b32decode(page.locator("#otp-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code shown by the app").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm").click()

    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page).to_have_url(re.compile(r"/o/cocair/$"))
    assert page.js_errors == []


def test_logout_from_the_menu_ends_the_session(new_page, officer_a):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, officer_a.user.username)
    page.goto("/o/cocair/")
    page.locator("#user-menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/o/cocair/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/o/cocair/$"))
