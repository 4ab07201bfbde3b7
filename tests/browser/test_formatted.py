"""The browser tier of formatted messages: the OCU's live follow-up board, urgent alerts that
stand out and notify, the Alert and Seizure forms' client side, small screens.

Every test signs in through the real login form against a real daphne (``asgi_server``) and
waits with Playwright's ``expect`` (never a sleep, never a timing assertion).
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from messaging.formatted import AlertInput, SubjectInput
from messaging.models import Message
from messaging.routing import Targets
from messaging.services import message_send
from seizures.models import Seizure
from tests.browser.conftest import PHONE, log_in, outside_event_loop, wait_until_live

pytestmark = pytest.mark.browser

# Replaces the Notifications API: records what the page shows, grants on request.
FAKE_NOTIFICATIONS = """
window.__notifications = [];
class FakeNotification {
  constructor(title, options) {
    window.__notifications.push({ title, body: options && options.body });
  }
  addEventListener() {}
  close() {}
}
FakeNotification.permission = "default";
FakeNotification.requestPermission = function (callback) {
  FakeNotification.permission = "granted";
  if (callback) callback("granted");
  return Promise.resolve("granted");
};
window.Notification = FakeNotification;
"""


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def send_alert(sender, operation, *, to, priority="normal", subject="") -> Message:
    return outside_event_loop(
        message_send,
        sender=sender.user,
        operation=operation,
        kind="alert",
        subject=subject,
        targets=Targets(users=tuple(m.user.username for m in to)),
        priority=priority,
        details=AlertInput(
            flight_number="ET908",
            flight_date=timezone.localdate(),
            departure_airport="GRU",
            destination_airport="DSS",
            transit_airports=("ADD",),
            subjects=(SubjectInput(name="Jane Roe", nationality="NG"),),
        ),
    )


def send_alert_through_the_form(page, slug, *, to_name, subject, priority="urgent"):
    """The OCU fills the New alert page (in the server's process: its events go out live)."""
    page.goto(f"/o/{slug}/alerts/new/")
    page.get_by_label("Flight number").fill("ET 908")
    page.get_by_label("Departure airport").select_option("GRU")
    page.get_by_label("Destination airport").select_option("DSS")
    page.locator("#id_subjects-0-name").fill("Jane Roe")
    page.get_by_label("Priority").select_option(priority)
    page.get_by_label("Subject").fill(subject)
    page.get_by_text("Select members").click()
    page.get_by_role("checkbox", name=re.compile(re.escape(to_name))).check()
    page.get_by_role("button", name="Send the alert").click()
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    return next(m for m in Message.objects.all() if m.subject == subject)  # encrypted


def board_row(page, alert, recipient):
    return page.locator(
        f'[data-followup-row][data-message-id="{alert.pk}"][data-recipient="{recipient.user.username}"]'
    )


def has_no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_the_ocus_board_updates_live_when_an_officer_reads_and_acknowledges(
    new_page, operation, ocu, officer_a, officer_b
):
    # Given an alert to two officers, and the OCU with the follow-up board open (and one
    # unread message of its own)
    alert = send_alert(ocu, operation, to=[officer_a, officer_b], priority="urgent")
    outside_event_loop(
        message_send,
        sender=officer_b.user,
        operation=operation,
        subject="Unrelated",
        body="b",
        targets=Targets(ocus=True),
    )
    board = new_page()
    log_in(board, ocu.user.username)
    board.goto(f"/o/{operation.slug}/follow-up/")
    wait_until_live(board)
    board.evaluate("window.sameDocument = true")
    row = board_row(board, alert, officer_a)
    for field in ("read_at", "acknowledged_at", "answered_at"):
        expect(row.locator(f'[data-field="{field}"] time')).to_have_count(0)
    section = board.locator(f'.followup-alert[data-alert-id="{alert.pk}"]')
    expect(section.locator('[data-count="acknowledged"]')).to_have_text("0")
    expect(board.locator("#unread-total")).to_have_text("1")

    # When an officer, in another browser, opens the alert and acknowledges it
    officer = new_page()
    log_in(officer, officer_a.user.username)
    officer.goto(f"/o/{operation.slug}/messages/{alert.pk}/")
    expect(row.locator('[data-field="read_at"] time')).to_have_count(1)
    officer.get_by_role("button", name="Acknowledge").click()
    expect(officer.get_by_text(re.compile(r"^Acknowledged at "))).to_be_visible()

    # Then the OCU's board shows it without a reload
    expect(row.locator('[data-field="acknowledged_at"] time')).to_have_count(1)
    expect(row.locator('[data-field="delivered_at"] time')).to_have_count(1)
    expect(section.locator('[data-count="acknowledged"]')).to_have_text("1")
    expect(row).not_to_have_class(re.compile(r"\boverdue\b"))
    other = board_row(board, alert, officer_b)
    expect(other.locator('[data-field="acknowledged_at"] time')).to_have_count(0)
    # the officer's reading is not the OCU's: its own unread count did not move
    expect(board.locator("#unread-total")).to_have_text("1")
    assert board.evaluate("window.sameDocument") is True
    assert board.js_errors == [] and officer.js_errors == []


def test_an_urgent_alert_notifies_and_stands_out_until_acknowledged(
    new_page, operation, ocu, officer_a
):
    # Given the officer's inbox is open and the officer enables notifications
    inbox = new_page()
    inbox.add_init_script(FAKE_NOTIFICATIONS)
    log_in(inbox, officer_a.user.username)
    inbox.goto(f"/o/{operation.slug}/")
    wait_until_live(inbox)
    enable = inbox.get_by_role("button", name="Enable notifications")
    expect(enable).to_be_visible()
    enable.click()
    expect(enable).to_be_hidden()

    # When the OCU sends an urgent alert
    sender = new_page()
    log_in(sender, ocu.user.username)
    alert = send_alert_through_the_form(
        sender, operation.slug, to_name=officer_a.user.full_name, subject="Urgent AT525"
    )

    # Then it arrives live, stands out, and raises a browser notification
    row = inbox.locator(f'#inbox [data-message-id="{alert.pk}"]')
    expect(row).to_have_class(re.compile(r"\burgent-pending\b"))
    expect(row.locator(".badge-kind")).to_have_text("Alert")
    expect(row.locator(".badge-priority")).to_have_text("Urgent")
    inbox.wait_for_function("window.__notifications.length === 1")
    note = inbox.evaluate("window.__notifications[0]")
    assert note["body"] == "Urgent AT525" and note["title"].startswith("Urgent alert")
    expect(inbox.locator("#unread-total")).to_have_text("1")

    # and once acknowledged in another tab it no longer stands out, counted read once
    tab = inbox.context.new_page()
    tab.goto(f"/o/{operation.slug}/messages/{alert.pk}/")
    tab.get_by_role("button", name="Acknowledge").click()
    expect(row).not_to_have_class(re.compile(r"\burgent-pending\b"))
    expect(row).not_to_have_class(re.compile(r"\bunread\b"))
    expect(inbox.locator("#unread-total")).to_have_text("0")
    assert inbox.js_errors == []


def test_the_alert_form_adds_passengers_and_stops_and_shows_the_h3_note(
    new_page, operation, ocu, officer_a
):
    page = new_page()
    log_in(page, officer_a.user.username)
    page.goto(f"/o/{operation.slug}/alerts/new/")
    page.get_by_label("Flight number").fill("AT 525")
    page.get_by_label("Departure airport").select_option("GRU")
    page.locator("#id_transit_airports").select_option("CMN")
    page.get_by_role("button", name="Add a transit airport").click()
    page.locator("#id_transit_airports_1").select_option("LIS")
    page.get_by_label("Destination airport").select_option("DSS")
    page.locator("#id_subjects-0-name").fill("John Doe")
    page.get_by_role("button", name="Add a passenger").click()
    expect(page.get_by_role("group", name="Passenger 2")).to_be_visible()
    page.locator("#id_subjects-1-name").fill("Mary Major")
    page.locator("#id_subjects-1-nationality").select_option("NG")
    note = page.get_by_label("Restriction (H3)")
    expect(note).to_be_hidden()
    page.get_by_label("Handling code").select_option("H3")
    expect(note).to_be_visible()
    note.fill("Not for the press")
    page.get_by_label("All OCUs").check()
    page.get_by_role("button", name="Send the alert").click()

    expect(page.get_by_role("heading", name=re.compile(r"^AT525 GRU→DSS"))).to_be_visible()
    alert = Message.objects.get(kind="alert")
    assert alert.alert_details.transit_airports == ["CMN", "LIS"]
    assert [s.name for s in alert.alert_subjects.all()] == ["John Doe", "Mary Major"]
    assert alert.handling_note == "Not for the press"
    expect(page.locator(".subjects-table")).to_contain_text("Nigeria")
    assert page.js_errors == []


def test_the_seizure_form_asks_for_the_currency_only_for_cash(new_page, operation, ocu, officer_a):
    page = new_page()
    log_in(page, officer_a.user.username)
    page.goto(f"/o/{operation.slug}/seizures/new/")
    currency = page.get_by_label("Currency code")
    expect(currency).to_be_hidden()
    page.get_by_label("Commodity").select_option("currency")
    expect(currency).to_be_visible()
    page.get_by_label("Quantity").fill("1")
    page.get_by_label("Unit", exact=True).select_option("units")
    page.get_by_label("Concealment method").select_option("on_body")
    page.get_by_label("Detection method").select_option("dog")
    page.get_by_role("button", name="Send the report").click()

    # no currency code: a clear error on the field, the input kept, nothing stored
    expect(page.locator("#id_currency ~ .invalid-feedback")).to_contain_text("ISO 4217")
    expect(page.get_by_label("Commodity")).to_have_value("currency")
    assert Seizure.objects.count() == 0

    page.get_by_label("Currency code").fill("eur")
    page.get_by_label("Amount").fill("125000")
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_text("125,000")).to_be_visible()
    seizure = Seizure.objects.get()
    assert (seizure.currency, seizure.amount) == ("EUR", 125000)
    assert page.js_errors == []


def test_formatted_pages_fit_a_phone_screen(
    new_page, operation, ocu, officer_a, officer_b, tmp_path
):
    alert = send_alert(ocu, operation, to=[officer_a, officer_b], priority="urgent")
    officer = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(officer, officer_a.user.username)
    for name, path in (
        ("alert-form", f"/o/{operation.slug}/alerts/new/"),
        ("seizure-form", f"/o/{operation.slug}/seizures/new/?alert={alert.pk}"),
        ("respond", f"/o/{operation.slug}/messages/{alert.pk}/respond/"),
        ("forward", f"/o/{operation.slug}/messages/{alert.pk}/forward/"),
        ("alert", f"/o/{operation.slug}/messages/{alert.pk}/"),
    ):
        officer.goto(path)
        officer.screenshot(path=tmp_path / f"phone-{name}.png", full_page=True)
        assert has_no_horizontal_overflow(officer), name

    board = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(board, ocu.user.username)
    board.goto(f"/o/{operation.slug}/follow-up/")
    expect(board_row(board, alert, officer_a)).to_be_visible()
    board.screenshot(path=tmp_path / "phone-follow-up.png", full_page=True)
    assert has_no_horizontal_overflow(board), "follow-up"
    assert officer.js_errors == [] and board.js_errors == []
