"""The browser tier: an OCU lead removes a member whose inbox is open in another browser."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import log_in, wait_until_live

pytestmark = pytest.mark.browser


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def test_a_removed_member_leaves_the_operation_page_at_once(new_page, ocu, officer_b):
    # given the officer's inbox open and live
    officer_page = new_page()
    log_in(officer_page, "dakar.police")
    officer_page.goto("/o/cocair/")
    wait_until_live(officer_page)

    # when the OCU lead opens Administration and removes the officer
    lead = new_page()
    log_in(lead, "ocu.brussels")
    lead.goto("/o/cocair/")
    lead.get_by_role("link", name="Administration").click()
    lead.get_by_role("link", name="COCAIR VI", exact=True).click()
    row = lead.locator("#members tr", has_text="dakar.police")
    row.get_by_role("button", name="Remove").click()
    expect(lead.locator("#members")).not_to_contain_text("dakar.police")

    # then the officer's page leaves the operation without a reload by hand
    expect(officer_page).to_have_url(re.compile(r".*/accounts/operations/$"))
    expect(officer_page.locator("main")).to_contain_text("not a member of any operation")
    assert officer_page.goto("/o/cocair/").status == 404
    assert not officer_page.js_errors and not lead.js_errors
