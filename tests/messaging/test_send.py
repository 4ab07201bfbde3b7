"""message_send: one transaction, one delivery per recipient, notified only after commit."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from accounts.models import AuditEvent, OperationStatus
from aircop.exceptions import Conflict, DomainError, NotFound
from messaging.models import BODY_MAX, Delivery, Message
from messaging.realtime import user_group
from messaging.routing import Targets
from messaging.services import delivery_mark_read, message_send

pytestmark = pytest.mark.django_db


def send(sender, operation, body="Control passenger on ET 908.", **targets):
    return message_send(
        sender=sender.user,
        operation=operation,
        subject="Alert",
        body=body,
        targets=Targets(**targets),
    )


def test_send_stores_message_deliveries_and_audit_then_notifies_after_commit(
    cocair, ocu, officer, colleague, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(officer.user_id), channel)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = send(ocu, cocair, officers=True)
        # Nothing is announced before the transaction commits.
        assert callbacks == []
    assert sorted(
        Delivery.objects.filter(message=message).values_list("recipient__username", flat=True)
    ) == ["colleague", "officer"]
    audit = AuditEvent.objects.get(action="message.sent")
    assert audit.actor == ocu.user and audit.operation == cocair
    assert audit.object_id == str(message.pk)
    assert len(callbacks) == 1
    event = async_to_sync(asyncio.wait_for)(layer.receive(channel), 5)
    assert event["type"] == "message.new"
    assert event["operation"] == "cocair"
    assert event["message"]["id"] == message.pk
    assert event["message"]["sender"]["username"] == "ocu"


def test_refused_send_writes_nothing_and_announces_nothing(
    cocair, officer, colleague, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(DomainError):
        send(officer, cocair, officers=True)  # an officer may not address all officers
    assert Message.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    assert callbacks == []


def test_body_of_exactly_the_limit_is_accepted_one_more_is_refused(cocair, ocu, officer):
    message = send(ocu, cocair, body="x" * BODY_MAX, officers=True)
    assert len(Message.objects.get(pk=message.pk).body) == BODY_MAX
    with pytest.raises(DomainError) as error:
        send(ocu, cocair, body="x" * (BODY_MAX + 1), officers=True)
    assert error.value.field == "body"
    assert Message.objects.count() == 1


def test_limit_counts_characters_not_bytes(cocair, ocu, officer):
    # 20,000 Arabic or Cyrillic characters are twice as many UTF-8 bytes.
    message = send(ocu, cocair, body="ض" * BODY_MAX, officers=True)
    assert Message.objects.get(pk=message.pk).body == "ض" * BODY_MAX


def test_the_body_column_holds_no_plaintext(cocair, ocu, officer):
    """The body is encrypted at rest (so the database no longer checks its length: the
    service does, above): the stored column holds an envelope, never the text."""
    from django.db import connection

    body = "Ticket paid in cash, booked the day before departure. " * 20
    message = send(ocu, cocair, body=body, officers=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT subject, body FROM messaging_message WHERE id = %s", [message.pk])
        stored_subject, stored_body = cursor.fetchone()
    assert "Ticket paid in cash" not in stored_body
    assert "Alert" not in stored_subject
    assert stored_body != body and stored_subject
    assert Message.objects.get(pk=message.pk).body == body


@pytest.mark.parametrize("status", [OperationStatus.CLOSED, OperationStatus.ARCHIVED])
def test_closed_operation_accepts_no_new_message(cocair, ocu, officer, status):
    cocair.status = status
    cocair.save()
    with pytest.raises((Conflict, NotFound)):
        send(ocu, cocair, officers=True)
    assert Message.objects.count() == 0


def test_closed_operation_error_names_the_operation(cocair, ocu, officer):
    cocair.status = OperationStatus.CLOSED
    cocair.save()
    with pytest.raises(Conflict) as error:
        send(ocu, cocair, officers=True)
    assert error.value.field == "operation"


def test_non_member_cannot_send(cocair, officer, outsider):
    with pytest.raises(NotFound):
        send(outsider, cocair, ocus=True)


def test_inactive_member_cannot_send(cocair, ocu, officer):
    officer.active = False
    officer.save()
    with pytest.raises(NotFound):
        send(officer, cocair, ocus=True)


def test_empty_subject_and_body_are_refused(cocair, ocu, officer):
    with pytest.raises(DomainError) as error:
        message_send(
            sender=ocu.user, operation=cocair, subject=" ", body="b", targets=Targets(officers=True)
        )
    assert error.value.field == "subject"
    with pytest.raises(DomainError) as error:
        send(ocu, cocair, body="  \n ", officers=True)
    assert error.value.field == "body"


def test_reading_marks_delivery_read_once(cocair, ocu, officer):
    message = send(ocu, cocair, officers=True)
    first = delivery_mark_read(user=officer.user, message=message)
    assert first.read_at is not None and first.delivered_at is not None
    again = delivery_mark_read(user=officer.user, message=message)
    assert again.read_at == first.read_at
    assert delivery_mark_read(user=ocu.user, message=message) is None  # the sender


def test_send_uses_a_bounded_number_of_queries_whatever_the_recipients(
    cocair, ocu, django_assert_max_num_queries
):
    from accounts.models import Role
    from tests.factories import member

    for i in range(30):
        member(cocair, Role.OFFICER, "SN", "DSS", username=f"o{i}")
    with django_assert_max_num_queries(12):
        send(ocu, cocair, officers=True)


def test_delivered_marks_of_many_messages_are_written_in_one_update_to_those_pairs_only(
    cocair, ocu, officer, colleague, django_assert_num_queries
):
    from messaging.services import deliveries_mark_delivered_bulk

    first = send(ocu, cocair, officers=True)
    second = send(ocu, cocair, officers=True)
    third = send(ocu, cocair, officers=True)
    earlier = Delivery.objects.get(message=third, recipient=officer.user)
    earlier.delivered_at = earlier.message.created_at
    earlier.save()

    # when one process's sockets pushed: the first to both, the second to the officer only, the
    # third (already marked) to the officer again
    before = timezone.now()
    with django_assert_num_queries(1):
        marked = deliveries_mark_delivered_bulk(
            recipients_by_message={
                first.pk: {officer.user_id, colleague.user_id},
                second.pk: {officer.user_id},
                third.pk: {officer.user_id},
            }
        )

    delivered = set(
        Delivery.objects.filter(delivered_at__isnull=False).values_list(
            "message_id", "recipient__username"
        )
    )
    assert marked == 3
    assert delivered == {
        (first.pk, "officer"),
        (first.pk, "colleague"),
        (second.pk, "officer"),
        (third.pk, "officer"),
    }
    marked_at = Delivery.objects.get(message=second, recipient=officer.user).delivered_at
    assert before <= marked_at <= timezone.now()
    earlier.refresh_from_db()
    assert earlier.delivered_at == third.created_at  # the first mark stands
    assert deliveries_mark_delivered_bulk(recipients_by_message={}) == 0
