"""Brute force: five failures lock the username and the address (django-axes) for the cool-off
time; the answer is the login page with the same message as any failed login."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from tests.factories import PASSWORD, OperationFactory, member
from tests.otp import totp_code, totp_device

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def officer():
    user = member(
        OperationFactory(slug="cocair", name="COCAIR VI"), Role.OFFICER, username="officer"
    ).user
    totp_device(user)
    return user


def attempt(username, password, ip="192.0.2.1"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    return client, response


def error_of(response) -> str:
    html = response.content.decode()
    start = html.index('id="login-error"')
    return html[html.index(">", start) + 1 : html.index("</div>", start)].strip()


def test_unknown_user_wrong_password_and_lockout_say_the_same(officer):
    _, unknown = attempt("ghost", "nope")
    _, wrong = attempt("officer", "nope")
    assert unknown.status_code == wrong.status_code == 200
    for _ in range(3):
        attempt("officer", "nope")
    _, locked = attempt("officer", PASSWORD)  # the right password, too late
    assert locked.status_code == 429
    assert error_of(unknown) == error_of(wrong) == error_of(locked)
    assert "5 failed attempts" in error_of(locked)


def test_five_wrong_passwords_lock_the_username_from_any_address(officer):
    for n in range(5):
        attempt("officer", "nope", ip=f"192.0.2.{n + 1}")
    client, response = attempt("officer", PASSWORD, ip="198.51.100.7")
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert "aircop.login_pending" not in client.session  # the password step did not pass
    assert response.templates[0].name == "accounts/login.html"


def test_four_wrong_passwords_do_not_lock(officer):
    for _ in range(4):
        attempt("officer", "nope")
    _, response = attempt("officer", PASSWORD)
    assert response.status_code == 302


def test_five_failures_from_one_address_lock_the_address(officer):
    for n in range(5):
        attempt(f"guess{n}", "nope", ip="203.0.113.9")
    assert attempt("officer", PASSWORD, ip="203.0.113.9")[1].status_code == 429
    assert attempt("officer", PASSWORD, ip="198.51.100.7")[1].status_code == 302


def test_the_lock_ends_after_the_cool_off(officer):
    with time_machine.travel(NOON, tick=False) as clock:
        for _ in range(5):
            attempt("officer", "nope")
        assert attempt("officer", PASSWORD)[1].status_code == 429
        clock.shift(timedelta(minutes=16))
        assert attempt("officer", PASSWORD)[1].status_code == 302


def test_wrong_codes_count_as_failed_logins(officer):
    with time_machine.travel(NOON, tick=False) as clock:
        client, _ = attempt("officer", PASSWORD)
        for _ in range(4):
            clock.shift(60)  # past django-otp's throttle
            response = client.post(reverse("accounts:second_factor"), {"code": "000000"})
            assert response.status_code == 400
        clock.shift(60)
        locked = client.post(reverse("accounts:second_factor"), {"code": "000000"})
        assert locked.status_code == 429
        # Locked: the next password attempt, even right, is refused, and so is a right code.
        assert "aircop.login_pending" not in client.session
        assert attempt("officer", PASSWORD, ip="198.51.100.7")[1].status_code == 429


def test_a_code_sent_during_the_throttle_is_not_checked(officer):
    with time_machine.travel(NOON, tick=False):
        client, _ = attempt("officer", PASSWORD)
        client.post(reverse("accounts:second_factor"), {"code": "000000"})
        response = client.post(
            reverse("accounts:second_factor"), {"code": totp_code(totp_device(officer))}
        )
        assert response.status_code == 400
        assert "try again in" in response.content.decode()
        assert "_auth_user_id" not in client.session
