"""The strict Content-Security-Policy in a real Chromium: the main pages, the Django admin and the
API documentation load and work, and the browser reports no violation."""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from messaging.formatted import AlertInput, SubjectInput
from messaging.routing import Targets
from messaging.services import message_send
from seizures.services import seizure_create
from tests.browser.conftest import log_in, outside_event_loop, wait_until_live
from tests.browser.test_live_inbox import compose_and_send
from tests.factories import member
from tests.seizures.test_register import seizure_input

pytestmark = pytest.mark.browser

# Registered before any script of the page: every violation the page reports is kept.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def watched_page(new_page):
    page = new_page()
    page.add_init_script(LISTEN)
    page.csp_console = []
    page.on(
        "console",
        lambda message: (
            page.csp_console.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return page


def violations(page) -> list[str]:
    return [*page.evaluate("window.__cspViolations || []"), *page.csp_console]


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, (url, response.status)
    assert "'nonce-" in response.headers["content-security-policy"] or url.startswith(
        "/api/v1/docs"
    )
    page.wait_for_load_state("load")
    assert violations(page) == [], url
    assert page.js_errors == [], url


@pytest.fixture
def world(operation, ocu, officer_a):
    ocu.user.is_staff = ocu.user.is_superuser = True
    ocu.user.save(update_fields=["is_staff", "is_superuser"])
    member(operation, Role.OFFICER, "SN", "DSS", username="dakar.police")
    alert = outside_event_loop(
        message_send,
        sender=officer_a.user,
        operation=operation,
        kind="alert",
        body="Nervous passenger at check-in.",
        targets=Targets(ocus=True),
        details=AlertInput(
            flight_number="AT525",
            flight_date=seizure_input().seized_at.date(),
            departure_airport="GRU",
            destination_airport="DSS",
            subjects=(SubjectInput(name="Jane Roe"),),
            suspected_commodity="cocaine",
        ),
    )
    seizure = outside_event_loop(
        seizure_create, reported_by=ocu.user, operation=operation, data=seizure_input()
    )
    return {"alert": alert, "seizure": seizure}


def test_main_pages_admin_and_api_docs_run_under_the_policy_without_a_violation(
    new_page, operation, ocu, officer_a, world
):
    page = watched_page(new_page)
    log_in(page, ocu.user.username)
    slug, alert_id = operation.slug, world["alert"].id
    for url in [
        f"/o/{slug}/",
        f"/o/{slug}/sent/",
        f"/o/{slug}/search/?q=passenger",
        f"/o/{slug}/compose/",
        f"/o/{slug}/alerts/new/",
        f"/o/{slug}/seizures/new/",
        f"/o/{slug}/follow-up/",
        f"/o/{slug}/messages/{alert_id}/",
        f"/o/{slug}/messages/{alert_id}/respond/",
        f"/o/{slug}/results/",
        "/seizures/",
        f"/seizures/{world['seizure'].id}/",
        "/statistics/",
        "/seizures/import/",
        "/accounts/profile/",
        "/accounts/operations/",
    ]:
        visit(page, url)

    # Scripts work: the compose page's live character counter and the Bootstrap dropdowns.
    visit(page, f"/o/{slug}/compose/")
    page.get_by_label("Message", exact=True).fill("Seat 12A")
    counter = page.locator("[data-char-remaining-for]")
    expect(counter).to_contain_text(re.compile(r"19\D?992 characters remaining"))
    page.locator("#user-menu").click()
    expect(page.get_by_role("link", name="Profile and API tokens")).to_be_visible()

    # The Django admin: its scripts and stylesheets load (the actions bar needs its JS).
    visit(page, "/admin/")
    visit(page, "/admin/accounts/operation/")
    expect(page.locator("#action-toggle")).to_be_visible()
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    visit(page, f"/admin/accounts/operation/{operation.pk}/change/")

    # The API documentation: django-ninja's Swagger UI renders from local files.
    visit(page, "/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("aircop API")
    page.locator(".opblock-summary").first.click()  # expand an operation: its parameters
    expect(page.locator(".opblock-body").first).to_be_visible()
    page.get_by_role("button", name="Try it out").first.click()
    expect(page.get_by_role("button", name="Execute").first).to_be_visible()
    assert violations(page) == []

    # The listener does hear a violation: markup with an inline style is refused.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\\'color: red\\'></p>')")
    expect(page.locator("p[style]")).to_have_count(1)
    page.wait_for_function("window.__cspViolations.length > 0")
    assert any(v.startswith("style-src") for v in violations(page))


def test_live_inbox_works_under_the_policy(new_page, operation, officer_a, officer_b):
    inbox = watched_page(new_page)
    log_in(inbox, officer_a.user.username)
    inbox.goto(f"/o/{operation.slug}/")
    wait_until_live(inbox)  # the websocket passed connect-src
    sender = watched_page(new_page)
    log_in(sender, officer_b.user.username)
    compose_and_send(
        sender,
        operation.slug,
        subject="Courier on AF718",
        body="Seat 12A.",
        addressing="my_country",
    )
    expect(inbox.locator("#inbox .message-row", has_text="Courier on AF718")).to_be_visible()
    expect(inbox.locator("#unread-total")).to_have_text("1")
    for page in (inbox, sender):
        assert violations(page) == []
        assert page.js_errors == []
