"""Request-rate limits: login, token creation, sending and search, per user and per address,
answered with 429 and Retry-After (an HTML page for pages, JSON for the API)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.login_flow import PENDING_KEY
from accounts.models import ApiToken, Role
from accounts.services import api_token_create
from aircop import ratelimit
from aircop.ratelimit import Rate
from messaging.models import Message
from messaging.routing import Targets
from messaging.services import message_send
from tests.factories import PASSWORD, OperationFactory, member
from tests.otp import totp_code, totp_device

pytestmark = pytest.mark.django_db

# A fixed clock, 15 s into an hour: a one-minute window has 45 s left, an hour 3,585 s.
NOW = 1_000 * 3600 + 15


@pytest.fixture
def cocair():
    return OperationFactory(slug="cocair", name="COCAIR VI")


@pytest.fixture
def ocu(cocair):
    return member(cocair, Role.OCU, "BE", "BRU", username="ocu")


@pytest.fixture
def officer(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="officer")


@pytest.fixture
def colleague(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="colleague")


@pytest.fixture
def clock(monkeypatch):
    now = [float(NOW)]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    return now


@pytest.fixture
def limits(settings):
    """Set the limits of one scope for this test, e.g. ``limits("login", user="2/m")``."""

    def set_limits(scope, **rates):
        settings.AIRCOP_RATE_LIMITS = {**settings.AIRCOP_RATE_LIMITS, scope: rates}

    return set_limits


def assert_refused_page(response, retry_after="45"):
    assert response.status_code == 429
    assert response["Retry-After"] == retry_after
    assert response["Content-Type"].startswith("text/html")
    assert "Too many requests" in response.content.decode()
    assert "Content-Security-Policy" in response


def assert_refused_api(response, retry_after=45):
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)
    body = response.json()
    assert body["code"] == "rate_limited" and body["retry_after"] == retry_after
    assert f"{retry_after} seconds" in body["detail"]


# --- the rates and the client address --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("30/m", Rate(30, 60)),
        ("10/5m", Rate(10, 300)),
        ("1/h", Rate(1, 3600)),
        ("5/2d", Rate(5, 172800)),
    ],
)
def test_rates_are_read_from_count_and_period(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["30", "30/minute", "/m", "x/m", "10/0m"])
def test_malformed_rates_are_refused(text):
    with pytest.raises(ValueError, match="Not a rate"):
        Rate.parse(text)


def test_client_address_is_the_peer_without_a_trusted_proxy(settings):
    settings.AIRCOP_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert ratelimit.client_ip(request) == "10.0.0.9"


def test_client_address_behind_one_proxy_ignores_what_the_client_forged(settings):
    settings.AIRCOP_TRUSTED_PROXY_COUNT = 1
    # The client sent X-Forwarded-For: 1.2.3.4 itself; the proxy appended what it saw.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7"
    )
    assert ratelimit.client_ip(request) == "203.0.113.7"
    bare = RequestFactory().get("/", REMOTE_ADDR="172.18.0.5")
    assert ratelimit.client_ip(bare) == "172.18.0.5"


# --- login -------------------------------------------------------------------------------------


def log_in(client, username, password="wrong", ip="192.0.2.1"):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_login_attempts_per_username_are_limited(client, clock, limits, officer):
    limits("login", user="2/m", ip="100/m")
    assert log_in(client, "officer").status_code == 200  # wrong password: the form again
    assert log_in(client, "OFFICER").status_code == 200  # same name, any case
    refused = log_in(client, "officer", password=PASSWORD)
    assert_refused_page(refused)
    assert "_auth_user_id" not in client.session  # the right password did not get through
    # Another name from the same address is not affected.
    assert log_in(client, "colleague").status_code == 200


def test_login_attempts_per_address_are_limited(client, clock, limits, officer):
    limits("login", user="100/m", ip="2/m")
    log_in(client, "a", ip="198.51.100.1")
    log_in(client, "b", ip="198.51.100.1")
    assert_refused_page(log_in(client, "c", ip="198.51.100.1"))
    assert log_in(client, "c", ip="198.51.100.2").status_code == 200


def test_the_limit_lifts_when_its_window_ends(client, clock, limits, officer):
    limits("login", user="1/m")
    log_in(client, "officer")
    assert_refused_page(log_in(client, "officer"))
    clock[0] += 45  # the next minute
    response = log_in(client, "officer", password=PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:second_factor")
    code = totp_code(totp_device(officer.user))
    assert client.post(reverse("accounts:second_factor"), {"code": code}).status_code == 302
    assert client.session["_auth_user_id"] == str(officer.user.pk)


def test_showing_the_login_form_is_not_counted(client, clock, limits):
    limits("login", ip="1/m")
    for _ in range(3):
        assert client.get(reverse("accounts:login")).status_code == 200


# --- API token creation (page) -------------------------------------------------------------------


def test_token_creation_is_limited_per_user(client, clock, limits, officer, colleague):
    limits("api_token_create", user="1/h")
    client.force_login(officer.user)
    url = reverse("accounts:token_create")
    assert client.post(url, {"name": "one", "days": 30}).status_code == 200
    assert_refused_page(client.post(url, {"name": "two", "days": 30}), retry_after="3585")
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["one"]
    client.force_login(colleague.user)
    assert client.post(url, {"name": "theirs", "days": 30}).status_code == 200


# --- sending ---------------------------------------------------------------------------------


def compose(client, subject):
    return client.post(
        reverse("messaging:compose", args=["cocair"]),
        {"kind": "free_text", "subject": subject, "body": "Seat 12A.", "users": ["colleague"]},
    )


def test_sending_from_the_page_is_limited_per_user(client, clock, limits, officer, colleague):
    limits("message_send", user="2/m")
    client.force_login(officer.user)
    assert client.get(reverse("messaging:compose", args=["cocair"])).status_code == 200
    assert compose(client, "one").status_code == 302
    assert compose(client, "two").status_code == 302
    assert_refused_page(compose(client, "three"))
    assert sorted(m.subject for m in Message.objects.all()) == ["one", "two"]


@pytest.fixture
def bearer():
    def for_user(user):
        _token, secret = api_token_create(user=user, name="test")
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return for_user


def api_send(client, headers, subject):
    return client.post(
        "/api/v1/operations/cocair/messages",
        {
            "kind": "free_text",
            "subject": subject,
            "body": "Seat 12A.",
            "to": {"users": ["colleague"]},
        },
        content_type="application/json",
        **headers,
    )


def test_sending_through_the_api_is_limited_with_a_json_answer(
    client, clock, limits, bearer, officer, colleague
):
    limits("message_send", user="1/m")
    headers = bearer(officer.user)
    assert api_send(client, headers, "one").status_code == 201
    assert_refused_api(api_send(client, headers, "two"))
    assert [m.subject for m in Message.objects.all()] == ["one"]
    # Forwarding is sending too, and counts in the same budget.
    message = Message.objects.get()
    forward = client.post(
        f"/api/v1/messages/{message.id}/forward",
        {"to": {"users": ["ocu"]}},
        content_type="application/json",
        **headers,
    )
    assert_refused_api(forward)
    # The page and the API share the user's budget.
    client.force_login(officer.user)
    assert_refused_page(compose(client, "three"))


def test_sending_is_limited_per_address_across_users(
    client, clock, limits, bearer, cocair, officer, colleague, ocu
):
    limits("message_send", user="100/m", ip="1/m")
    assert api_send(client, bearer(officer.user), "one").status_code == 201
    assert_refused_api(api_send(client, bearer(ocu.user), "two"))


# --- search ----------------------------------------------------------------------------------


def test_search_page_is_limited_per_user(client, clock, limits, officer, colleague):
    limits("search", user="2/m")
    client.force_login(officer.user)
    url = reverse("messaging:search", args=["cocair"])
    assert client.get(url, {"q": "seat"}).status_code == 200
    assert client.get(url, {"q": "cash"}).status_code == 200
    assert_refused_page(client.get(url, {"q": "flight"}))
    client.force_login(colleague.user)
    assert client.get(url, {"q": "flight"}).status_code == 200


def test_search_api_is_limited_with_a_json_answer(client, clock, limits, bearer, ocu, officer):
    limits("search", user="1/m")
    message_send(
        sender=ocu.user,
        operation=ocu.operation,
        subject="Seat",
        body="b",
        targets=Targets(officers=True),
    )
    headers = bearer(officer.user)
    url = "/api/v1/operations/cocair/messages/search"
    assert client.get(url, {"q": "seat"}, **headers).status_code == 200
    assert_refused_api(client.get(url, {"q": "seat"}, **headers))


def test_default_limits_leave_ordinary_use_alone(client, officer, colleague):
    client.force_login(officer.user)
    for n in range(10):
        assert compose(client, f"report {n}").status_code == 302
        assert (
            client.get(reverse("messaging:search", args=["cocair"]), {"q": "report"}).status_code
            == 200
        )


def test_the_admin_login_form_is_no_way_around_the_login_limits(client, clock, limits, officer):
    """/admin/login/ checks no password: it sends to the app's login, which counts."""
    limits("login", user="1/m")
    log_in(client, "officer")
    assert_refused_page(log_in(client, "officer", password=PASSWORD))
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": "officer", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.1",
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login") + "?next=/admin/"
    assert "_auth_user_id" not in client.session
    assert PENDING_KEY not in client.session  # not even the first step
    assert_refused_page(log_in(client, "officer", password=PASSWORD))
