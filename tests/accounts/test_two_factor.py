"""Two-factor login: enrolment at the first login, codes of the app (each once), recovery codes
(each once), the administrator's reset, and no page without a verified session."""

import re
from base64 import b32decode
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken

from accounts import two_factor
from accounts.models import ApiToken, AuditEvent, Authenticator, Role, User
from tests.factories import PASSWORD, OperationFactory, UserFactory, member
from tests.otp import force_login_unverified, totp_code, totp_device

pytestmark = pytest.mark.django_db

INBOX = "/o/cocair/"
NOON = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def officer():
    return member(
        OperationFactory(slug="cocair", name="COCAIR VI"), Role.OFFICER, username="officer"
    ).user


def password_step(client, username="officer", password=PASSWORD, **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, **extra
    )


def code_step(client, code, **extra):
    return client.post(reverse("accounts:second_factor"), {"code": code}, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_first_login_enrols_with_a_qr_code_then_shows_recovery_codes_once(client, officer):
    response = password_step(client)
    assert response.url == reverse("accounts:second_factor")
    assert client.get(response.url).url == reverse("accounts:enrol")
    assert not signed_in(client)  # the password alone signs nobody in
    assert client.get(INBOX).status_code == 302

    page = client.get(reverse("accounts:enrol"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<script" not in html.split("<main", 1)[1].split("</main>")[0]
    device = Authenticator.objects.get(user=officer)
    assert not device.confirmed
    assert "otpauth://totp/aircop%3Aofficer?secret=" in html
    # A reload shows the same key: what the phone scanned stays valid.
    assert client.get(reverse("accounts:enrol")).context["secret"] == page.context["secret"]

    wrong = client.post(reverse("accounts:enrol"), {"code": "000000"})
    assert wrong.status_code == 400 and not signed_in(client)

    with time_machine.travel(datetime.now(UTC).timestamp() + 60):  # past the throttle
        done = client.post(reverse("accounts:enrol"), {"code": totp_code(device)})
        assert done.status_code == 200
        codes = done.context["codes"]
        assert len(codes) == 10 and all(code in done.content.decode() for code in codes)
        device.refresh_from_db()
        assert device.confirmed
        assert signed_in(client)
        assert client.get(INBOX).status_code == 200
        profile = client.get(reverse("accounts:profile")).content.decode()
    assert not any(code in profile for code in codes)  # shown once
    assert "10 recovery codes left" in profile
    assert AuditEvent.objects.filter(actor=officer, action="two_factor.enrolled").exists()


def test_login_with_the_code_of_the_app_lands_in_the_inbox(client, officer):
    device = totp_device(officer)
    password_step(client)
    response = code_step(client, totp_code(device), follow=True)
    assert response.redirect_chain[-1][0] == INBOX
    assert signed_in(client)


def test_the_login_keeps_the_page_asked_for(client, officer):
    device = totp_device(officer)
    client.post(
        reverse("accounts:login") + "?next=/accounts/profile/",
        {"username": "officer", "password": PASSWORD, "next": "/accounts/profile/"},
    )
    assert code_step(client, totp_code(device)).url == "/accounts/profile/"


def test_a_code_of_the_app_is_accepted_once(officer):
    device = totp_device(officer)
    with time_machine.travel(NOON, tick=False):
        code = totp_code(device)
        first, second = Client(), Client()
        password_step(first)
        assert code_step(first, code).status_code == 302 and signed_in(first)

        password_step(second)  # another browser replays the same code, in the same 30 s
        replay = code_step(second, code)
        assert replay.status_code == 400 and not signed_in(second)
        assert "already used" in replay.content.decode()

        assert two_factor.second_factor_verify(user=officer, code=code) is None


def test_a_recovery_code_works_once(officer):
    totp_device(officer)
    codes = two_factor.recovery_codes_regenerate(user=officer)
    first = Client()
    password_step(first)
    response = code_step(first, codes[0].upper(), follow=True)  # case does not matter
    assert signed_in(first)
    assert "9 left" in response.content.decode()
    assert StaticToken.objects.filter(device__user=officer).count() == 9

    second = Client()
    password_step(second)
    assert code_step(second, codes[0]).status_code == 400
    assert not signed_in(second)
    assert AuditEvent.objects.filter(action="two_factor.recovery_code_used").count() == 1


def test_new_recovery_codes_replace_the_old_ones(client, officer):
    old = two_factor.recovery_codes_regenerate(user=totp_device(officer).user)
    client.force_login(officer)
    response = client.post(reverse("accounts:recovery_codes"))
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert two_factor.second_factor_verify(user=officer, code=old[0]) is None


def test_an_administrator_resets_a_second_factor(client, officer):
    totp_device(officer)
    two_factor.recovery_codes_regenerate(user=officer)
    officer_browser = Client()
    officer_browser.force_login(officer)
    assert officer_browser.get(INBOX).status_code == 200
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)

    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [officer.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert two_factor.totp_device_of(user=officer) is None
    assert two_factor.recovery_codes_left(user=officer) == 0
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert (event.actor, event.object_id) == (admin, str(officer.pk))
    # The officer's session ends; the next login sets up a new authenticator.
    assert officer_browser.get(INBOX).status_code == 302
    assert not signed_in(officer_browser)
    password_step(officer_browser)
    assert officer_browser.get(reverse("accounts:second_factor")).url == reverse("accounts:enrol")


def test_the_admin_does_not_show_second_factor_secrets(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    admin_index = client.get(reverse("admin:index")).content.decode()
    assert "otp_totp" not in admin_index and "otp_static" not in admin_index


def test_a_session_without_second_factor_opens_no_page_and_makes_no_token(client, officer):
    force_login_unverified(client, officer)
    response = client.post(reverse("accounts:token_create"), {"name": "script", "days": 30})
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert not ApiToken.objects.exists()
    assert not signed_in(client)  # the session was ended

    force_login_unverified(client, officer)
    assert client.get("/api/v1/operations").status_code == 401
    force_login_unverified(client, officer)
    assert client.get(INBOX).url.startswith(reverse("accounts:login"))


def test_every_page_needs_a_login_but_the_login_steps(client):
    for url in (INBOX, "/", reverse("accounts:profile"), "/seizures/", "/admin/"):
        response = client.get(url, follow=True)
        assert response.request["PATH_INFO"] == reverse("accounts:login"), url
        assert response.status_code == 200, url
    assert client.get(reverse("accounts:login")).status_code == 200
    # Without a correct password first, the code steps send back to the login page.
    assert client.get(reverse("accounts:second_factor")).url == reverse("accounts:login")
    assert client.get(reverse("accounts:enrol")).url == reverse("accounts:login")
    assert client.post(reverse("accounts:set_language"), {"language": "fr"}).status_code == 302


def test_the_admin_login_form_is_the_app_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.url == reverse("accounts:login") + "?next=/admin/"


def test_a_code_step_left_waiting_expires(client, officer, settings):
    totp_device(officer)
    with time_machine.travel(NOON, tick=False) as clock:
        password_step(client)
        clock.shift(settings.AIRCOP_LOGIN_PENDING_SECONDS + 1)
        assert client.get(reverse("accounts:second_factor")).url == reverse("accounts:login")


def test_the_enrolment_page_shows_a_key_to_type_by_hand(client, officer):
    password_step(client)
    html = client.get(reverse("accounts:enrol")).content.decode()
    secret = re.search(r'id="otp-secret"[^>]*>([A-Z2-7 ]+)<', html).group(1)
    device = Authenticator.objects.get(user=officer)
    assert b32decode(secret.replace(" ", "")) == device.bin_key


def test_inactive_user_cannot_finish_a_login(client, officer):
    totp_device(officer)
    password_step(client)
    User.objects.filter(pk=officer.pk).update(is_active=False)
    assert code_step(client, "123456").url == reverse("accounts:login")
