"""Fixtures of the browser tier: Debian's Chromium driven by Playwright against a real daphne.

The server is the ``asgi_server`` fixture of tests/conftest.py (a daphne subprocess on
the test database, ``transactional_db``): rows created here with the factories are
committed, so the server sees them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.models import Role
from tests.factories import PASSWORD, OperationFactory, member
from tests.otp import totp_device, unused_totp_code

# Playwright's sync API runs an asyncio loop in this thread; the ORM calls the tests make
# between browser steps are plain synchronous calls and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Live updates cross a websocket and a second process: give them time, but never sleep.
LIVE_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def playwright_browser():
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(playwright_browser, asgi_server) -> Iterator[Callable]:
    """``new_page(viewport=..., **context_options)``: a page in a fresh browser context
    (its own cookies: one person). Contexts close before the server stops."""
    from playwright.sync_api import expect

    expect.set_options(timeout=LIVE_TIMEOUT_MS)
    contexts = []

    def make(viewport=DESKTOP, **options):
        context = playwright_browser.new_context(
            viewport=viewport, base_url=asgi_server.url, locale="en-US", **options
        )
        context.set_default_timeout(LIVE_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors
        return page

    yield make
    for context in contexts:
        context.close()


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form and its second step, as a person would: the
    user's authenticator (created when missing) gives the code."""

    from accounts.models import User

    totp_device(User.objects.get(username=username))
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    enter_second_factor(page, username)


def enter_second_factor(page, username: str) -> None:
    """The login's second step, after the password, in any language: the code of the user's
    authenticator (which must exist before the password step, else the app enrols)."""
    from playwright.sync_api import expect

    from accounts.models import User

    expect(page).to_have_url(re.compile(r"/accounts/login/code/$"))
    device = totp_device(User.objects.get(username=username))
    page.locator("#id_code").fill(unused_totp_code(device))
    page.locator("#main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def wait_until_live(page) -> None:
    """The page's websocket is open and its resume has been answered."""
    from playwright.sync_api import expect

    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")


def outside_event_loop(function: Callable, /, **kwargs):
    """Call a service from a worker thread.

    Playwright's loop runs in the test's thread, and a service's on-commit websocket
    notification goes through ``async_to_sync``, which refuses to run beside a running
    loop. The worker commits on its own connection, so the server sees the rows at once.
    """
    from django.db import connections

    def call():
        try:
            return function(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


@pytest.fixture
def operation():
    return OperationFactory(slug="cocair", name="COCAIR VI")


@pytest.fixture
def officer_a(operation):
    """The sender: an officer at Dakar."""
    return member(
        operation, Role.OFFICER, "SN", "DSS", username="dakar.customs", full_name="Ibrahima Sow"
    )


@pytest.fixture
def officer_b(operation):
    """The recipient: another officer at Dakar, same country."""
    return member(
        operation, Role.OFFICER, "SN", "DSS", username="dakar.police", full_name="Fatou Sarr"
    )


@pytest.fixture
def ocu(operation):
    return member(
        operation, Role.OCU, "BE", "BRU", username="ocu.brussels", full_name="Anne Dubois"
    )


@pytest.fixture
def foreign_officer(operation):
    """An officer of another country: not in "everyone in my country" of a Senegalese officer."""
    return member(
        operation, Role.OFFICER, "NG", "LOS", username="lagos.customs", full_name="Ngozi Adeyemi"
    )
