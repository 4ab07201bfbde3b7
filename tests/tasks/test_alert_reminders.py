"""E-mail to a recipient who has not acknowledged an urgent Alert in time: once, in the
recipient's language, with no detail of the alert, retried on a transient failure."""

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from accounts.models import OperationStatus
from messaging import reminders, tasks
from messaging.models import Delivery
from messaging.services import delivery_acknowledge
from tests.tasks.helpers import DOCUMENT, PASSENGER, send_alert

pytestmark = pytest.mark.django_db


def _overdue(minutes=16):
    return time_machine.travel(timedelta(minutes=minutes))


def test_overdue_urgent_alert_sends_one_email_even_when_the_task_runs_twice(ocu, officer, cocair):
    alert = send_alert(ocu, cocair)
    delivery = Delivery.objects.get(message=alert, recipient=officer.user)
    with _overdue():
        assert reminders.overdue_urgent_deliveries() == [delivery.pk]
        tasks.alert_reminder_send.delay(delivery.pk)
        tasks.alert_reminder_send.delay(delivery.pk)
        tasks.alert_reminders_enqueue.delay()
        assert reminders.overdue_urgent_deliveries() == []
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [officer.user.email]
    assert f"/o/cocair/messages/{alert.id}/" in email.body
    delivery.refresh_from_db()
    assert delivery.reminded_at is not None


def test_the_email_names_no_passenger_nor_subject(ocu, officer, cocair):
    alert = send_alert(ocu, cocair)
    with _overdue():
        tasks.alert_reminders_enqueue.delay()
    (email,) = mail.outbox
    text = email.subject + email.body
    assert "urgent" in text.lower()
    for secret in (PASSENGER, DOCUMENT, alert.subject, "AT525"):
        assert secret not in text


def test_the_email_is_in_the_recipients_language(ocu, officer, colleague, cocair):
    """Rendered in each recipient's profile language (the operation's translated name shows
    it while the catalogues wait for the new strings)."""
    cocair.name_fr = "COCAIR VI (opération)"
    cocair.save()
    send_alert(ocu, cocair)
    with _overdue():
        tasks.alert_reminders_enqueue.delay()
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {officer.user.email, colleague.user.email}
    assert "(COCAIR VI)" in by_address[officer.user.email].subject
    assert "COCAIR VI (opération)" in by_address[colleague.user.email].subject
    assert "COCAIR VI (opération)" in by_address[colleague.user.email].body


def test_no_email_before_the_deadline_nor_after_acknowledgement(ocu, officer, colleague, cocair):
    alert = send_alert(ocu, cocair)
    with time_machine.travel(timedelta(minutes=14)):
        tasks.alert_reminders_enqueue.delay()
        delivery = Delivery.objects.get(message=alert, recipient=officer.user)
        assert reminders.alert_reminder_send(delivery_id=delivery.pk) is False
    assert mail.outbox == []
    delivery_acknowledge(user=officer.user, message=alert)
    with _overdue():
        tasks.alert_reminders_enqueue.delay()
    assert [m.to for m in mail.outbox] == [[colleague.user.email]]


def test_normal_alerts_and_closed_operations_get_no_reminder(ocu, officer, cocair):
    send_alert(ocu, cocair, priority="normal")
    with time_machine.travel(timedelta(hours=3)):
        tasks.alert_reminders_enqueue.delay()
    assert mail.outbox == []
    send_alert(ocu, cocair)
    cocair.status = OperationStatus.CLOSED
    cocair.save()
    with _overdue():
        tasks.alert_reminders_enqueue.delay()
    assert mail.outbox == []


def test_a_former_member_gets_no_reminder(ocu, officer, cocair):
    send_alert(ocu, cocair)
    officer.active = False
    officer.save()
    with _overdue():
        tasks.alert_reminders_enqueue.delay()
    assert mail.outbox == []


def test_a_transient_smtp_failure_is_retried_and_sends_once(ocu, officer, cocair, monkeypatch):
    alert = send_alert(ocu, cocair)
    delivery = Delivery.objects.get(message=alert, recipient=officer.user)
    real_mail_user = reminders.mail_user
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_mail_user(*args, **kwargs)

    monkeypatch.setattr(reminders, "mail_user", flaky)
    with _overdue():
        # Eager: celery runs the retry at once (a worker waits ~10 s first).
        result = tasks.alert_reminder_send.apply(args=(delivery.pk,), throw=False)
    assert result.successful() and result.result is True
    assert len(calls) == 2
    assert len(mail.outbox) == 1


def test_a_failure_releases_the_claim(ocu, officer, cocair, monkeypatch):
    alert = send_alert(ocu, cocair)
    delivery = Delivery.objects.get(message=alert, recipient=officer.user)

    def down(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(reminders, "mail_user", down)
    with _overdue(), pytest.raises(ConnectionRefusedError):
        reminders.alert_reminder_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.reminded_at is None
    monkeypatch.undo()
    with _overdue():
        assert reminders.alert_reminder_send(delivery_id=delivery.pk) is True
    assert len(mail.outbox) == 1
