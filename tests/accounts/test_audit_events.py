"""What the audit trail records: log in and out (and failures), reading, acknowledging,
forwarding, exports, API tokens. Each event in the same transaction as what it records."""

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.models import AuditEvent, Role
from accounts.services import api_token_create, api_token_revoke
from messaging.routing import Targets
from messaging.services import (
    delivery_acknowledge,
    delivery_mark_read,
    message_forward,
    message_send,
)
from tests.factories import PASSWORD, OperationFactory, member
from tests.messaging.test_formatted_api import send_alert
from tests.messaging.test_formatted_pages import respond
from tests.otp import totp_code, totp_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def cocair():
    return OperationFactory(slug="cocair", name="COCAIR VI")


@pytest.fixture
def ocu(cocair):
    return member(cocair, Role.OCU, "BE", "BRU", username="ocu")


@pytest.fixture
def officer(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="officer")


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def test_a_login_is_recorded_with_where_it_came_from(client, officer):
    where = {"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": "Gate tablet"}
    client.post(reverse("accounts:login"), {"username": "officer", "password": PASSWORD}, **where)
    assert events("user.logged_in") == []  # the password alone signs nobody in
    code = totp_code(totp_device(officer.user))
    client.post(reverse("accounts:second_factor"), {"code": code}, **where)
    [event] = events("user.logged_in")
    assert event.actor == officer.user
    assert event.data == {"ip": "198.51.100.7", "user_agent": "Gate tablet"}


def test_a_failed_login_records_the_username_tried_and_the_address_never_the_password(
    client, officer
):
    client.post(
        reverse("accounts:login"),
        {"username": "officer", "password": "guess-Secret-42"},
        REMOTE_ADDR="203.0.113.9",
    )
    client.post(reverse("accounts:login"), {"username": "ghost", "password": "guess-Secret-42"})
    first, second = events("user.login_failed")
    assert first.actor is None
    assert first.data == {"username": "officer", "ip": "203.0.113.9"}
    assert second.data["username"] == "ghost"
    assert "guess-Secret-42" not in str(AuditEvent.objects.values_list("data", flat=True))
    assert events("user.logged_in") == []


def test_a_logout_is_recorded(client, officer):
    client.force_login(officer.user)
    client.post(reverse("accounts:logout"))
    [event] = events("user.logged_out")
    assert event.actor == officer.user


def test_reading_a_message_is_recorded_once(cocair, ocu, officer):
    message = message_send(
        sender=ocu.user, operation=cocair, subject="s", body="b", targets=Targets(officers=True)
    )
    delivery_mark_read(user=officer.user, message=message)
    delivery_mark_read(user=officer.user, message=message)  # already read: nothing new
    delivery_mark_read(user=ocu.user, message=message)  # the sender has no delivery
    [event] = events("message.read")
    assert (event.actor, event.operation, event.object_id) == (
        officer.user,
        cocair,
        str(message.pk),
    )


def test_opening_a_message_page_records_the_read(client, cocair, ocu, officer):
    message = message_send(
        sender=ocu.user, operation=cocair, subject="s", body="b", targets=Targets(officers=True)
    )
    client.force_login(officer.user)
    client.get(reverse("messaging:detail", args=["cocair", message.pk]))
    assert [e.object_id for e in events("message.read")] == [str(message.pk)]


def test_acknowledging_forwarding_and_answering_are_recorded(cocair, ocu, officer):
    colleague = member(cocair, Role.OFFICER, "SN", "DSS", username="colleague")
    alert = send_alert(ocu, cocair, officers=True)
    delivery_acknowledge(user=officer.user, message=alert)
    delivery_acknowledge(user=officer.user, message=alert)  # once only
    respond(colleague, cocair, alert, "negative")  # answering acknowledges too
    forward = message_forward(forwarder=officer.user, message=alert, targets=Targets(users=["ocu"]))
    acknowledged = events("alert.acknowledged")
    assert [(e.actor, e.object_id, e.data) for e in acknowledged] == [
        (officer.user, str(alert.pk), {}),
        (colleague.user, str(alert.pk), {"by_answer": True}),
    ]
    [forwarded] = events("message.forwarded")
    assert forwarded.actor == officer.user and forwarded.data == {"forward": forward.pk}


def test_api_tokens_created_and_revoked_are_recorded(officer):
    token, _secret = api_token_create(user=officer.user, name="gate")
    api_token_revoke(user=officer.user, token_id=token.pk)
    api_token_revoke(user=officer.user, token_id=token.pk)  # already revoked: nothing new
    assert [e.action for e in AuditEvent.objects.order_by("sequence")] == [
        "api_token.created",
        "api_token.revoked",
    ]


def test_an_event_rolls_back_with_what_it_records(officer):
    with pytest.raises(RuntimeError), transaction.atomic():
        api_token_create(user=officer.user, name="gate")
        raise RuntimeError("the caller fails after the service")
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_results_and_statistics_exports_are_recorded(client, cocair, officer, fmt):
    client.force_login(officer.user)
    assert client.get(f"/o/cocair/results/?format={fmt}").status_code == 200
    assert client.get(f"/statistics/?format={fmt}&rows=commodity").status_code == 200
    client.get("/o/cocair/results/")  # the page itself is not an export
    [results] = events("results.exported")
    assert (results.actor, results.operation, results.data) == (
        officer.user,
        cocair,
        {"format": fmt},
    )
    [statistics] = events("statistics.exported")
    assert statistics.data["format"] == fmt
    assert statistics.data["query"]["rows"] == "commodity"
