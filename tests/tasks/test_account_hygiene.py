"""Account hygiene with a frozen clock: a reminder 10 days before, the block at 90 days of
disuse, what a blocked user can no longer do, and an administrator's unblock."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import formats, timezone, translation

from accounts import hygiene, hygiene_tasks
from accounts.models import AuditEvent, User
from accounts.presence import user_seen
from accounts.services import api_token_create
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)


@pytest.fixture
def idle_officer():
    with time_machine.travel(T0, tick=False):
        user = UserFactory(username="idle", preferred_language="fr")
        user_seen(user=user, force=True)
    return user


def at(days, hours=0):
    return time_machine.travel(T0 + timedelta(days=days, hours=hours), tick=False)


def test_a_reminder_ten_days_before_the_block_sent_once(idle_officer):
    with at(79):
        hygiene_tasks.account_hygiene_enqueue.delay()
    assert mail.outbox == []
    with at(80, 1):
        hygiene_tasks.account_hygiene_enqueue.delay()
        hygiene_tasks.account_block_remind.delay(idle_officer.pk)
    with at(85):
        hygiene_tasks.account_hygiene_enqueue.delay()
    (email,) = mail.outbox
    assert email.to == [idle_officer.email]
    assert str((T0 + timedelta(days=90)).year) in email.body
    assert "/accounts/login/" in email.body
    idle_officer.refresh_from_db()
    assert idle_officer.blocked_at is None


def test_the_reminder_is_in_the_users_language(idle_officer):
    with time_machine.travel(T0, tick=False):
        english = UserFactory(username="idle.en", preferred_language="en")
        user_seen(user=english, force=True)
    with at(81):
        hygiene_tasks.account_hygiene_enqueue.delay()
    by_address = {m.to[0]: m.body for m in mail.outbox}
    block_on = T0 + timedelta(days=90)
    with translation.override("fr"):
        french_date = formats.date_format(block_on, "DATE_FORMAT")
    with translation.override("en"):
        english_date = formats.date_format(block_on, "DATE_FORMAT")
    assert french_date != english_date
    assert french_date in by_address[idle_officer.email]
    assert english_date in by_address[english.email]


def test_an_account_unused_for_90_days_is_blocked_and_audited(idle_officer):
    with at(89, 23):
        hygiene_tasks.account_hygiene_enqueue.delay()
    assert not User.objects.get(pk=idle_officer.pk).is_blocked
    with at(90, 1):
        hygiene_tasks.account_hygiene_enqueue.delay()
        assert hygiene.account_block_idle(user_id=idle_officer.pk) is False  # once
    idle_officer.refresh_from_db()
    assert idle_officer.blocked_at == T0 + timedelta(days=90, hours=1)
    assert idle_officer.is_active  # blocked is not deactivated
    (event,) = AuditEvent.objects.filter(action="user.blocked")
    assert event.object_id == str(idle_officer.pk)
    assert event.actor is None


def test_activity_resets_the_clock_and_a_new_idle_spell_gets_a_new_reminder(idle_officer):
    with at(81):
        hygiene_tasks.account_hygiene_enqueue.delay()
    with at(85):
        user_seen(user=User.objects.get(pk=idle_officer.pk))
    with at(95):
        hygiene_tasks.account_hygiene_enqueue.delay()
    assert not User.objects.get(pk=idle_officer.pk).is_blocked
    with at(85 + 81):
        hygiene_tasks.account_hygiene_enqueue.delay()
    assert len(mail.outbox) == 2


def test_a_blocked_user_cannot_sign_in_nor_use_a_session_or_a_token(idle_officer, client):
    _token, secret = api_token_create(user=idle_officer, name="script", days=366)
    client.force_login(idle_officer)
    assert client.get(reverse("accounts:operations")).status_code == 200
    # Blocked while the session is open (its clock says 90 days have passed).
    later = timezone.now() + timedelta(days=91)
    assert hygiene.account_block_idle(user_id=idle_officer.pk, now=later) is True
    # The session ends at its next request.
    response = client.get(reverse("accounts:operations"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
    # The backends refuse the right password (Client.login cannot run axes: no request).
    request = RequestFactory().post(reverse("accounts:login"))
    assert authenticate(request, username="idle", password=PASSWORD) is None
    response = client.post(reverse("accounts:login"), {"username": "idle", "password": PASSWORD})
    assert response.status_code == 200  # the form again, not a redirect
    response = client.get("/api/v1/operations", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401


def test_an_administrator_unblocks_and_the_clock_starts_again(idle_officer, client):
    with at(90, 1):
        hygiene_tasks.account_hygiene_enqueue.delay()
    with at(92):
        admin = User.objects.create_superuser("admin", "admin@example.org", "x", full_name="A")
        client.force_login(admin)
        response = client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "unblock", "_selected_action": [idle_officer.pk]},
        )
        assert response.status_code == 302
        hygiene_tasks.account_hygiene_enqueue.delay()
    idle_officer.refresh_from_db()
    assert idle_officer.blocked_at is None
    (event,) = AuditEvent.objects.filter(action="user.unblocked")
    assert event.actor.username == "admin"
    with at(100):
        assert_login = User.objects.get(pk=idle_officer.pk)
        assert hygiene.accounts_to_block() == []
        assert assert_login.is_active


def test_deactivated_accounts_are_left_alone(idle_officer):
    User.objects.filter(pk=idle_officer.pk).update(is_active=False)
    with at(95):
        hygiene_tasks.account_hygiene_enqueue.delay()
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="user.blocked").exists()
