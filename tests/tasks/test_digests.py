"""The digest of unread messages to members who were offline: who gets one, what it says, once
per user and period, in the user's language, retried on a transient failure."""

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.presence import user_seen
from messaging import digests, tasks
from messaging.models import Delivery, UnreadDigest
from messaging.services import delivery_mark_read
from tests.tasks.helpers import PASSENGER, send_alert, send_text

pytestmark = pytest.mark.django_db


def later(minutes=30):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def seen(membership, minutes_ago=0):
    user = membership.user
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes_ago), tick=False):
        user_seen(user=user, force=True)


def test_a_member_offline_since_messages_arrived_gets_one_digest(ocu, officer, cocair):
    seen(officer, minutes_ago=60)
    send_text(ocu, cocair)
    alert = send_alert(ocu, cocair)
    with later():
        assert digests.digest_recipients() == [officer.user.pk]
        period = digests.period_start().isoformat()
        tasks.digest_send.delay(officer.user.pk, period)
        tasks.digest_send.delay(officer.user.pk, period)
        tasks.digests_enqueue.delay()
    (email,) = mail.outbox
    assert email.to == [officer.user.email]
    assert "2 unread messages" in email.subject
    assert "/o/cocair/" in email.body
    for secret in (PASSENGER, alert.subject, "Briefing", "Day 1"):
        assert secret not in email.subject + email.body
    assert UnreadDigest.objects.get().message_count == 2


def test_the_next_period_covers_only_new_messages(ocu, officer, cocair):
    seen(officer, minutes_ago=60)
    send_text(ocu, cocair)
    with later(30):
        tasks.digests_enqueue.delay()
    with later(60 * 2):
        tasks.digests_enqueue.delay()  # nothing new: no e-mail
        send_text(ocu, cocair)
    with later(60 * 3):
        tasks.digests_enqueue.delay()
    assert len(mail.outbox) == 2
    assert "1 unread message " in mail.outbox[1].subject + " "


def test_a_member_seen_since_the_message_arrived_gets_none(ocu, officer, colleague, cocair):
    seen(officer, minutes_ago=60)
    send_text(ocu, cocair)
    seen(officer)  # came back (a request, or an open websocket)
    message = send_text(ocu, cocair, users=["colleague"])
    delivery_mark_read(user=colleague.user, message=message)
    with later(30):
        tasks.digests_enqueue.delay()
    # The officer was seen after the message arrived; the colleague read everything but the
    # briefing... which arrived while the colleague was never seen: one digest, to them.
    assert [m.to for m in mail.outbox] == [[colleague.user.email]]
    assert "1 message non lu " in mail.outbox[0].subject  # in the colleague's French


def test_a_member_just_gone_is_not_offline_yet(ocu, officer, cocair):
    seen(officer, minutes_ago=2)
    send_text(ocu, cocair)
    tasks.digests_enqueue.delay()
    assert mail.outbox == []


def test_read_messages_and_former_members_are_left_out(ocu, officer, colleague, cocair):
    seen(officer, minutes_ago=60)
    seen(colleague, minutes_ago=60)
    message = send_text(ocu, cocair)
    delivery_mark_read(user=officer.user, message=message)
    colleague.active = False
    colleague.save()
    with later():
        tasks.digests_enqueue.delay()
    assert mail.outbox == []


def test_the_digest_is_in_the_users_language(ocu, officer, colleague, cocair):
    cocair.name_fr = "COCAIR VI (opération)"
    cocair.save()
    seen(officer, minutes_ago=60)
    seen(colleague, minutes_ago=60)
    send_text(ocu, cocair)
    with later():
        tasks.digests_enqueue.delay()
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "COCAIR VI (opération)" in bodies[colleague.user.email]
    assert "COCAIR VI (opération)" not in bodies[officer.user.email]
    assert "COCAIR VI" in bodies[officer.user.email]


def test_a_transient_failure_is_retried_and_the_claim_released(ocu, officer, cocair, monkeypatch):
    seen(officer, minutes_ago=60)
    send_text(ocu, cocair)
    real = digests.mail_user
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise smtplib.SMTPConnectError(421, "Try again later")
        return real(*args, **kwargs)

    monkeypatch.setattr(digests, "mail_user", flaky)
    with later():
        period = digests.period_start().isoformat()
        result = tasks.digest_send.apply(args=(officer.user.pk, period), throw=False)
    assert result.successful() and result.result is True
    assert len(calls) == 2
    assert len(mail.outbox) == 1
    assert UnreadDigest.objects.filter(sent_at__isnull=False).count() == 1
    assert not Delivery.objects.filter(digested_at__isnull=True).exclude(recipient=ocu.user)


def test_messages_older_than_the_lookback_are_not_news(ocu, officer, cocair):
    with time_machine.travel(timezone.now() - timedelta(hours=30), tick=False):
        send_text(ocu, cocair)  # the officer was never seen: offline ever since
    tasks.digests_enqueue.delay()
    assert mail.outbox == []
