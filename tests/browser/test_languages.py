"""The inbox in Arabic, in a real browser: right to left, translated, navigation on the right."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

from messaging.routing import Targets
from messaging.services import message_send
from tests.browser.conftest import DESKTOP, log_in, outside_event_loop, wait_until_live

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def arabic(msgid: str) -> str:
    entry = polib.pofile(str(ROOT / "locale/ar/LC_MESSAGES/django.po")).find(msgid)
    assert entry is not None and entry.msgstr
    return entry.msgstr


def test_arabic_inbox_is_translated_mirrored_and_screenshotted(
    new_page, operation, officer_a, officer_b, tmp_path
):
    from playwright.sync_api import expect

    officer_b.user.preferred_language = "ar"
    officer_b.user.save()
    outside_event_loop(
        message_send,
        sender=officer_a.user,
        operation=operation,
        subject="Contrôle ET908",
        body="b",
        targets=Targets(users=("dakar.police",)),
    )
    page = new_page(viewport=DESKTOP)
    log_in(page, officer_b.user.username)  # the login page follows the browser: English
    page.goto(f"/o/{operation.slug}/")
    wait_until_live(page)

    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page.locator("h1")).to_contain_text(arabic("Inbox"))
    expect(page.locator(".message-row", has_text="Contrôle ET908")).to_be_visible()

    # The navigation is mirrored: brand at the right edge, then the menu to its left.
    width = page.viewport_size["width"]
    brand = page.locator(".navbar-brand").bounding_box()
    inbox_link = page.locator("#nav-main .nav-link", has_text=arabic("Inbox")).first.bounding_box()
    assert brand["x"] > width / 2
    assert inbox_link["x"] < brand["x"]
    path = tmp_path / "inbox-ar.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000
