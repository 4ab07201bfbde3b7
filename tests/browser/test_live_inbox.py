"""The browser tier: two officers in two real browsers, the live inbox, reconnects, small screens.

Every test signs in through the real login form against a real daphne (``asgi_server``)
and waits with Playwright's ``expect`` (never a sleep, never a timing assertion).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from messaging.models import Message
from messaging.routing import Targets
from messaging.services import message_send
from tests.browser.conftest import (
    PHONE,
    enter_second_factor,
    log_in,
    outside_event_loop,
    wait_until_live,
)
from tests.factories import PASSWORD
from tests.otp import totp_device

pytestmark = pytest.mark.browser


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def open_inbox(page, slug: str) -> None:
    page.goto(f"/o/{slug}/")
    wait_until_live(page)


def compose_and_send(
    page, slug: str, *, subject: str, body: str, addressing: str, recipient_name: str = ""
) -> None:
    """Fill the compose form as an officer would and send it."""
    page.goto(f"/o/{slug}/compose/")
    if addressing == "selection":
        page.get_by_text("Select members").click()
        page.get_by_role("checkbox", name=re.compile(re.escape(recipient_name))).check()
    elif addressing == "my_country":
        page.get_by_label("Everyone in my country").check()
    else:  # pragma: no cover - a typo in a test
        raise ValueError(addressing)
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill(body)
    page.get_by_role("button", name="Send", exact=True).click()


def send(**kwargs) -> Message:
    """The service, as another client (the API, a second server) would call it."""
    return outside_event_loop(message_send, **kwargs)


def inbox_row(page, subject: str):
    return page.locator("#inbox .message-row", has_text=subject)


def has_no_horizontal_overflow(page) -> bool:
    width = page.viewport_size["width"]
    return page.evaluate("document.documentElement.scrollWidth") <= width


def restart_server_on_same_port(server) -> None:
    """Stop daphne and start a new one on the same port and database (a deploy, a crash)."""
    from tests.conftest import ROOT, _tcp_open, server_environment

    server.stop()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(server.port),
            "aircop.asgi:application",
        ],
        cwd=ROOT,
        env=server_environment(),
        stdout=server.log.open("a"),
        stderr=subprocess.STDOUT,
    )
    server.process = process  # the fixture's teardown stops this one
    deadline = time.monotonic() + 30
    while not _tcp_open("127.0.0.1", server.port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"daphne did not come back:\n{server.log.read_text()}")
        time.sleep(0.1)


# --- the live inbox ---------------------------------------------------------------------


@pytest.mark.parametrize("addressing", ["selection", "my_country"])
def test_message_sent_through_the_form_appears_unread_in_the_colleagues_open_inbox(
    new_page, operation, officer_a, officer_b, ocu, foreign_officer, addressing
):
    # Given officer B already has one unread message and keeps the inbox open
    send(
        sender=ocu.user,
        operation=operation,
        subject="Operation has started",
        body="Briefing",
        targets=Targets(officers=True),
    )
    inbox = new_page()
    log_in(inbox, officer_b.user.username)
    open_inbox(inbox, operation.slug)
    expect(inbox.locator("#unread-total")).to_have_text("1")
    expect(inbox.locator("#inbox .message-row")).to_have_count(1)
    inbox.evaluate("window.sameDocument = true")  # gone if the page reloads

    # When officer A, in another browser, writes to B through the compose form
    sender = new_page()
    log_in(sender, officer_a.user.username)
    subject = f"Cash courier on AF718 ({addressing})"
    compose_and_send(
        sender,
        operation.slug,
        subject=subject,
        body="Passenger in 23C.",
        addressing=addressing,
        recipient_name=officer_b.user.full_name,
    )
    # (only B: neither the OCU nor the Nigerian officer is "in my country" or selected)
    expect(sender.locator(".alert-success")).to_have_text("Message sent to 1 recipient.")

    # Then B's open inbox shows it on top, bold and unread, without a reload
    row = inbox_row(inbox, subject)
    expect(row).to_be_visible()
    expect(row).to_have_class(re.compile(r"\bunread\b"))
    expect(row.locator(".message-subject")).to_have_css("font-weight", "700")
    expect(row.locator(".message-sender")).to_contain_text(officer_a.user.full_name)
    expect(inbox.locator("#inbox .message-row").first).to_have_text(re.compile(re.escape(subject)))
    message = next(m for m in Message.objects.all() if m.subject == subject)  # encrypted
    expect(row).to_have_attribute("href", f"/o/{operation.slug}/messages/{message.pk}/")
    # and the unread counts in the header went up
    expect(inbox.locator("#unread-total")).to_have_text("2")
    expect(inbox.locator(f'[data-unread-operation="{operation.slug}"]')).to_have_text("2")
    expect(inbox).to_have_title(re.compile(r"^\(2\) "))
    assert inbox.evaluate("window.sameDocument") is True
    assert inbox.js_errors == [] and sender.js_errors == []


def test_reading_the_message_clears_it_from_the_unread_count(
    new_page, operation, officer_a, officer_b
):
    # Given B's inbox is open with one unread message
    send(
        sender=officer_a.user,
        operation=operation,
        subject="Check bag tag 4411",
        body="Belt 3.",
        targets=Targets(users=(officer_b.user.username,)),
    )
    inbox = new_page()
    log_in(inbox, officer_b.user.username)
    open_inbox(inbox, operation.slug)
    expect(inbox.locator("#unread-total")).to_have_text("1")

    # When B opens it in a second tab of the same browser
    other_tab = inbox.context.new_page()
    other_tab.goto(inbox_row(inbox, "Check bag tag 4411").get_attribute("href"))
    expect(other_tab.get_by_role("heading", name="Check bag tag 4411")).to_be_visible()

    # Then the first tab, untouched, shows it read and the count drops
    expect(inbox.locator("#unread-total")).to_have_text("0")
    expect(inbox_row(inbox, "Check bag tag 4411")).not_to_have_class(re.compile(r"\bunread\b"))


# --- disconnects: the client reconnects by itself and asks for what it missed --------


# The page's new websockets fail while its network is "down": they ask the server for a path it
# refuses. (Chromium's offline emulation let a reconnection through now and then.)
NETWORK_SWITCH = """() => {
  const Real = window.WebSocket;
  window.networkDown = false;
  window.WebSocket = class extends Real {
    constructor(url, protocols) {
      super(window.networkDown ? url.replace("/ws/", "/no-such-socket/") : url, protocols);
    }
  };
}"""


def network_down(page) -> None:
    page.evaluate(NETWORK_SWITCH)
    page.evaluate("window.networkDown = true")


def network_up(page) -> None:
    """Back on the network: the browser tells the page (its ``online`` event)."""
    page.evaluate("window.networkDown = false; window.dispatchEvent(new Event('online'))")


def test_inbox_reconnects_by_itself_and_resumes_a_message_sent_while_offline(
    new_page, operation, officer_a, officer_b
):
    # Given B's inbox is live
    inbox = new_page()
    log_in(inbox, officer_b.user.username)
    open_inbox(inbox, operation.slug)
    first_socket = inbox.evaluate_handle("window.aircopSocket")

    # When B's network drops (the socket closes and reconnecting fails for now)
    network_down(inbox)
    inbox.evaluate("window.aircopSocket.close()")
    expect(inbox.locator("#live-status")).to_have_attribute("data-state", "offline")

    # and A sends a message meanwhile
    sender = new_page()
    log_in(sender, officer_a.user.username)
    compose_and_send(
        sender,
        operation.slug,
        subject="Sent while you were offline",
        body="Gate 12.",
        addressing="selection",
        recipient_name=officer_b.user.full_name,
    )
    expect(sender.locator(".alert-success")).to_be_visible()
    # B was still disconnected when it was stored, so no live push could reach B
    expect(inbox.locator("#live-status")).to_have_attribute("data-state", "offline")
    expect(inbox_row(inbox, "Sent while you were offline")).to_have_count(0)

    # Then, back online, the client reconnects on its own and the message appears
    network_up(inbox)
    wait_until_live(inbox)
    row = inbox_row(inbox, "Sent while you were offline")
    expect(row).to_be_visible()
    expect(row).to_have_class(re.compile(r"\bunread\b"))
    expect(inbox.locator("#unread-total")).to_have_text("1")
    assert inbox.evaluate("(old) => window.aircopSocket !== old", first_socket) is True
    assert inbox.evaluate("window.aircopSocket.readyState") == 1


def test_inbox_survives_a_server_restart_and_gets_the_message_sent_while_it_was_down(
    new_page, asgi_server, operation, officer_a, officer_b
):
    # Given B's inbox is live
    inbox = new_page()
    log_in(inbox, officer_b.user.username)
    open_inbox(inbox, operation.slug)
    inbox.evaluate("window.sameDocument = true")

    # When the server goes down, a message is stored meanwhile, and the server comes back
    asgi_server.stop()
    expect(inbox.locator("#live-status")).to_have_attribute("data-state", "offline")
    send(
        sender=officer_a.user,
        operation=operation,
        subject="Stored during the restart",
        body="Nothing is lost.",
        targets=Targets(my_country=True),
    )
    restart_server_on_same_port(asgi_server)

    # Then the page reconnects by itself (backoff) and resumes: the message is there
    row = inbox_row(inbox, "Stored during the restart")
    expect(row).to_be_visible(timeout=45_000)
    expect(inbox.locator("#live-status")).to_have_attribute("data-state", "online")
    expect(inbox.locator("#unread-total")).to_have_text("1")
    assert inbox.evaluate("window.sameDocument") is True


# --- the compose page ----------------------------------------------------------------


def test_compose_counts_characters_down_live_and_selects_all_or_none(
    new_page, operation, officer_a, officer_b, ocu
):
    page = new_page()
    log_in(page, officer_a.user.username)
    page.goto(f"/o/{operation.slug}/compose/")
    counter = page.locator("[data-char-remaining-for]")
    expect(counter).to_have_text("20,000 characters remaining")

    body = page.get_by_label("Message", exact=True)
    body.press_sequentially("Bag 7")
    expect(counter).to_have_text("19,995 characters remaining")
    body.press("Enter")  # a line break is one character, as the server counts it
    expect(counter).to_have_text("19,994 characters remaining")
    body.fill("x" * 20_003)  # a long paste is not cut silently: the officer sees the excess
    expect(counter).to_have_text("3 characters over the limit")
    expect(body).to_have_class(re.compile(r"\bis-invalid\b"))
    body.fill("fits")
    expect(counter).to_have_text("19,996 characters remaining")
    expect(body).not_to_have_class(re.compile(r"\bis-invalid\b"))

    page.get_by_text("Select members").click()
    members = page.locator('input[name="users"]')
    selected = page.locator("[data-selected-count]")
    expect(members).to_have_count(2)  # the OCU and the colleague of the same country
    page.get_by_role("button", name="Select all").click()
    expect(selected).to_have_text("2")
    for i in range(2):
        expect(members.nth(i)).to_be_checked()
    page.get_by_role("button", name="Select none").click()
    expect(selected).to_have_text("0")
    expect(page.locator('input[name="users"]:checked')).to_have_count(0)
    members.first.check()
    expect(selected).to_have_text("1")


def test_sending_without_recipient_keeps_the_text_and_says_why(new_page, operation, officer_a):
    page = new_page()
    log_in(page, officer_a.user.username)
    page.goto(f"/o/{operation.slug}/compose/")
    page.get_by_label("Subject", exact=True).fill("No one")
    page.get_by_label("Message", exact=True).fill("Line one\nLine two")
    page.get_by_role("button", name="Send", exact=True).click()

    expect(page.get_by_role("alert")).to_have_text("Choose at least one recipient.")
    expect(page.locator("fieldset.recipients")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.get_by_label("Message", exact=True)).to_have_value("Line one\nLine two")
    expect(page.locator("[data-char-remaining-for]")).to_have_text("19,983 characters remaining")
    assert Message.objects.count() == 0


# --- small screens and right-to-left ---------------------------------------------------


def test_inbox_and_compose_fit_a_phone_screen(
    new_page, operation, officer_a, officer_b, ocu, tmp_path
):
    long_subject = "Seizure-report-" + "x" * 120  # one long word must wrap, not widen the page
    send(
        sender=ocu.user,
        operation=operation,
        subject=long_subject,
        body="b",
        targets=Targets(officers=True),
    )
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/accounts/login/")
    page.screenshot(path=tmp_path / "phone-login.png", full_page=True)
    assert has_no_horizontal_overflow(page), "login"
    log_in(page, officer_b.user.username)

    open_inbox(page, operation.slug)
    expect(inbox_row(page, long_subject)).to_be_visible()
    # the unread count and the live status stay in sight without opening the menu
    expect(page.locator("#unread-total")).to_be_visible()
    expect(page.locator("#unread-total")).to_have_text("1")
    expect(page.locator(".navbar-toggler")).to_be_visible()
    expect(page.get_by_role("link", name="Sent")).to_be_hidden()
    page.screenshot(path=tmp_path / "phone-inbox.png", full_page=True)
    assert has_no_horizontal_overflow(page), "inbox"

    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name="Sent")).to_be_visible()
    expect(page.get_by_role("link", name="Compose")).to_be_visible()
    page.screenshot(path=tmp_path / "phone-menu.png")
    assert has_no_horizontal_overflow(page), "open menu"

    page.get_by_role("link", name="Compose").click()
    page.get_by_text("Select members").click()
    expect(page.get_by_role("button", name="Select all")).to_be_visible()
    page.screenshot(path=tmp_path / "phone-compose.png", full_page=True)
    assert has_no_horizontal_overflow(page), "compose"

    page.get_by_role("button", name="Send", exact=True).click()  # empty: errors shown
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    page.screenshot(path=tmp_path / "phone-compose-errors.png", full_page=True)
    assert has_no_horizontal_overflow(page), "compose with errors"

    page.goto("/accounts/profile/")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    page.screenshot(path=tmp_path / "phone-profile.png", full_page=True)
    assert has_no_horizontal_overflow(page), "profile and API tokens"

    for name in (
        "phone-login.png",
        "phone-inbox.png",
        "phone-menu.png",
        "phone-compose.png",
        "phone-compose-errors.png",
        "phone-profile.png",
    ):
        assert (tmp_path / name).stat().st_size > 0


def test_arabic_is_laid_out_right_to_left(new_page, asgi_server, operation, officer_b, tmp_path):
    # Anonymous: the language cookie decides
    page = new_page(viewport=PHONE)
    page.context.add_cookies([{"name": "django_language", "value": "ar", "url": asgi_server.url}])
    page.goto("/accounts/login/")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page.locator('link[rel="stylesheet"]').first).to_have_attribute(
        "href", re.compile(r"bootstrap\.rtl\.min\.css$")
    )
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert has_no_horizontal_overflow(page)

    # Signed in (profile language English), then switched with the footer selector
    totp_device(officer_b.user)
    page.locator("#id_username").fill(officer_b.user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#main form button[type=submit]").click()
    enter_second_factor(page, officer_b.user.username)
    open_inbox(page, operation.slug)
    expect(html).to_have_attribute("dir", "ltr")
    page.locator("#language-select").select_option("ar")
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.locator('link[rel="stylesheet"]').first).to_have_attribute(
        "href", re.compile(r"bootstrap\.rtl\.min\.css$")
    )
    wait_until_live(page)
    # mirrored: the brand sits on the right, the menu button on the left
    brand = page.locator(".navbar-brand").bounding_box()
    toggler = page.locator(".navbar-toggler").bounding_box()
    assert brand["x"] > toggler["x"]
    page.screenshot(path=tmp_path / "phone-inbox-ar.png", full_page=True)
    assert has_no_horizontal_overflow(page)
    page.goto(f"/o/{operation.slug}/compose/")
    page.screenshot(path=tmp_path / "phone-compose-ar.png", full_page=True)
    assert has_no_horizontal_overflow(page)
