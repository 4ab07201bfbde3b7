"""Security headers on every HTML page, and a strict Content-Security-Policy whose nonce is the
one on the page's script tags; no markup left that would need 'unsafe-inline'."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.models import Role
from messaging.formatted import AlertInput, SubjectInput
from messaging.routing import Targets
from messaging.services import message_send
from seizures.services import seizure_create
from tests.factories import OperationFactory, member
from tests.seizures.test_register import seizure_input

pytestmark = pytest.mark.django_db


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class PageMarkup(HTMLParser):
    """Collects what a strict CSP cares about: scripts, styles, inline attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict] = []
        self.style_elements: list[dict] = []
        self.inline_attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name == "style" or name.startswith("on"):
                self.inline_attributes.append((tag, name))
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.inline_attributes.append((tag, name))
        if tag == "script":
            self.scripts.append(attrs)
        elif tag == "style":
            self.style_elements.append(attrs)


def markup(response) -> PageMarkup:
    parser = PageMarkup()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def world():
    """An operation with an OCU (also a site administrator), an officer, an Alert and a seizure."""
    operation = OperationFactory(slug="cocair", name="COCAIR VI")
    ocu = member(operation, Role.OCU, "BE", "BRU", username="ocu", is_staff=True, is_superuser=True)
    officer = member(operation, Role.OFFICER, "SN", "DSS", username="officer")
    alert = message_send(
        sender=officer.user,
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
    seizure = seizure_create(reported_by=ocu.user, operation=operation, data=seizure_input())
    return {"ocu": ocu, "officer": officer, "alert": alert, "seizure": seizure}


def signed_in_pages(world) -> list[str]:
    slug, alert, seizure = "cocair", world["alert"], world["seizure"]
    return [
        reverse("accounts:profile"),
        reverse("accounts:operations"),
        reverse("accounts:password_change"),
        reverse("messaging:inbox", args=[slug]),
        reverse("messaging:sent", args=[slug]),
        reverse("messaging:search", args=[slug]) + "?q=passenger",
        reverse("messaging:compose", args=[slug]),
        reverse("messaging:alert_new", args=[slug]),
        reverse("messaging:seizure_new", args=[slug]),
        reverse("messaging:followup", args=[slug]),
        reverse("messaging:detail", args=[slug, alert.id]),
        reverse("messaging:respond", args=[slug, alert.id]),
        reverse("messaging:forward", args=[slug, alert.id]),
        reverse("seizures:register"),
        reverse("seizures:new"),
        reverse("seizures:detail", args=[seizure.id]),
        reverse("seizures:edit", args=[seizure.id]),
        reverse("seizure_import:upload"),
        reverse("statistics:results", args=[slug]),
        reverse("statistics:statistics"),
        "/o/cocair/messages/999999/",  # the 404 page
        reverse("admin:index"),
        reverse("admin:accounts_operation_changelist"),
        reverse("admin:accounts_operation_change", args=[world["ocu"].operation_id]),
    ]


def assert_security_headers(response, url):
    assert response["X-Frame-Options"] == "DENY", url
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert response["Referrer-Policy"] == "same-origin", url
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
    policy = csp_directives(response)
    assert policy["default-src"] == ["'self'"], url
    assert policy["object-src"] == ["'none'"], url
    assert policy["base-uri"] == ["'none'"], url
    assert policy["frame-ancestors"] == ["'none'"], url
    assert policy["form-action"] == ["'self'"], url
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header, url


def test_every_main_page_sends_the_headers_and_its_scripts_carry_the_policys_nonce(client, world):
    client.force_login(world["ocu"].user)
    for url in signed_in_pages(world):
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert response["Content-Type"].startswith("text/html"), url
        assert_security_headers(response, url)
        found = markup(response)
        assert found.inline_attributes == [], (url, found.inline_attributes)
        nonces = {script.get("nonce") for script in found.scripts}
        assert len(nonces) == 1 and None not in nonces, (url, found.scripts)
        (nonce,) = nonces
        script_src = csp_directives(response)["script-src"]
        assert script_src == ["'self'", f"'nonce-{nonce}'"], url
        # The admin's own <style> and inline <script> blocks carry the nonce too.
        assert all(style.get("nonce") == nonce for style in found.style_elements), url


def test_login_page_sends_the_security_headers(client):
    response = client.get(reverse("accounts:login"))
    assert_security_headers(response, "login")
    assert markup(response).inline_attributes == []


def test_each_response_has_a_fresh_nonce(client, world):
    client.force_login(world["officer"].user)
    url = reverse("messaging:inbox", args=["cocair"])
    first = csp_directives(client.get(url))["script-src"]
    second = csp_directives(client.get(url))["script-src"]
    assert first != second
    assert all(value.startswith(("'self'", "'nonce-")) for value in first + second)


def test_connect_src_names_the_websocket_origin_of_the_request(client, world):
    client.force_login(world["officer"].user)
    url = reverse("messaging:inbox", args=["cocair"])
    assert csp_directives(client.get(url))["connect-src"] == ["'self'", "ws://testserver"]
    secure = client.get(url, secure=True)
    assert csp_directives(secure)["connect-src"] == ["'self'", "wss://testserver"]


def test_api_docs_page_is_under_the_same_strict_policy_and_loads_only_local_assets(client, world):
    client.force_login(world["officer"].user)
    response = client.get(reverse("api:openapi-view"))
    assert response.status_code == 200
    assert_security_headers(response, "docs")
    policy = csp_directives(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    found = markup(response)
    assert found.inline_attributes == []
    # Its one inline <script> is a JSON data block (settings), which browsers never run.
    inline = [s for s in found.scripts if "src" not in s]
    assert [s.get("type") for s in inline] == ["application/json"]
    assert all(s["src"].startswith("/static/") for s in found.scripts if "src" in s)


def test_json_api_responses_carry_the_headers_too(client, world):
    client.force_login(world["officer"].user)
    response = client.get("/api/v1/operations")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert csp_directives(response)["default-src"] == ["'self'"]


def test_production_transport_https_redirect_and_hsts(client, settings, world):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    plain = client.get(reverse("accounts:login"))
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/"
    # Behind the TLS proxy: the request is secure, HSTS goes out.
    proxied = client.get(reverse("accounts:login"), HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
