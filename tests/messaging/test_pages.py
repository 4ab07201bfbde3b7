"""The web pages of an operation: compose, inbox, sent, detail; errors and 404s."""

import pytest
from django.urls import reverse

from accounts.models import OperationStatus
from messaging.models import BODY_MAX, Delivery, Message
from messaging.routing import Targets
from messaging.services import message_send

pytestmark = pytest.mark.django_db


def compose_url(slug="cocair"):
    return reverse("messaging:compose", kwargs={"slug": slug})


def test_officer_sends_through_the_form_and_colleague_sees_it_unread(
    client, cocair, officer, colleague
):
    client.force_login(officer.user)
    response = client.post(
        compose_url(),
        {
            "kind": "free_text",
            "subject": "Cash ticket on GRU-DSS",
            "body": "Line one\r\nLine two",
            "users": ["colleague"],
        },
    )
    message = Message.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("messaging:detail", args=["cocair", message.pk])
    assert message.body == "Line one\nLine two"

    client.force_login(colleague.user)
    inbox = client.get(reverse("messaging:inbox", args=["cocair"]))
    html = inbox.content.decode()
    assert "Cash ticket on GRU-DSS" in html
    assert "message-row unread" in html
    assert 'id="unread-total" data-count="1"' in html


def test_opening_a_message_marks_it_read(client, cocair, officer, colleague):
    message = message_send(
        sender=officer.user,
        operation=cocair,
        subject="s",
        body="b",
        targets=Targets(users=("colleague",)),
    )
    client.force_login(colleague.user)
    response = client.get(reverse("messaging:detail", args=["cocair", message.pk]))
    assert response.status_code == 200
    assert Delivery.objects.get(recipient=colleague.user).read_at is not None
    inbox = client.get(reverse("messaging:inbox", args=["cocair"])).content.decode()
    assert "message-row unread" not in inbox


def test_body_over_the_limit_is_a_form_error_and_nothing_is_stored(client, cocair, ocu, officer):
    client.force_login(ocu.user)
    response = client.post(
        compose_url(),
        {"kind": "free_text", "subject": "s", "body": "x" * (BODY_MAX + 1), "officers": "on"},
    )
    assert response.status_code == 400
    assert "body" in response.context["form"].errors
    assert Message.objects.count() == 0
    # The officer's text is kept in the form, not lost.
    assert response.context["form"]["body"].value() == "x" * (BODY_MAX + 1)


def test_line_breaks_count_as_one_character(client, cocair, ocu, officer):
    client.force_login(ocu.user)
    body = "ab\r\n" * (BODY_MAX // 3)  # 3 characters each once CRLF is one line break
    response = client.post(
        compose_url(), {"kind": "free_text", "subject": "s", "body": body, "officers": "on"}
    )
    assert response.status_code == 302
    assert len(Message.objects.get().body) == BODY_MAX // 3 * 3


def test_no_recipient_is_a_form_error(client, cocair, officer, colleague):
    client.force_login(officer.user)
    response = client.post(compose_url(), {"kind": "free_text", "subject": "s", "body": "b"})
    assert response.status_code == 400
    assert "Choose at least one recipient." in response.content.decode()
    assert Message.objects.count() == 0


def test_officer_form_offers_only_the_targets_its_role_allows(client, cocair, officer):
    client.force_login(officer.user)
    form = client.get(compose_url()).context["form"]
    assert [t.value for t in form.group_targets] == ["ocus", "my_country"]
    # A forged "all officers" field is ignored, so nothing is sent to them.
    response = client.post(
        compose_url(), {"kind": "free_text", "subject": "s", "body": "b", "officers": "on"}
    )
    assert response.status_code == 400
    assert Message.objects.count() == 0


def test_selecting_a_member_outside_the_policy_is_a_form_error(client, cocair, officer):
    from accounts.models import Role
    from tests.factories import member

    member(cocair, Role.OFFICER, "NG", "LOS", username="lagos")
    client.force_login(officer.user)
    response = client.post(
        compose_url(), {"kind": "free_text", "subject": "s", "body": "b", "users": ["lagos"]}
    )
    assert response.status_code == 400
    assert "users" in response.context["form"].errors
    assert Message.objects.count() == 0


def test_closed_operation_refuses_the_form_with_a_clear_error(client, cocair, ocu, officer):
    cocair.status = OperationStatus.CLOSED
    cocair.save()
    client.force_login(ocu.user)
    response = client.post(
        compose_url(), {"kind": "free_text", "subject": "s", "body": "b", "officers": "on"}
    )
    assert response.status_code == 400
    assert "accepts no new message" in response.content.decode()
    assert Message.objects.count() == 0
    # Its history stays readable.
    assert client.get(reverse("messaging:inbox", args=["cocair"])).status_code == 200


def test_sent_page_lists_my_messages_with_read_counts(client, cocair, ocu, officer, colleague):
    message = message_send(
        sender=ocu.user,
        operation=cocair,
        subject="Briefing",
        body="b",
        targets=Targets(officers=True),
    )
    Delivery.objects.filter(message=message, recipient=officer.user).update(
        read_at=message.created_at
    )
    client.force_login(ocu.user)
    html = client.get(reverse("messaging:sent", args=["cocair"])).content.decode()
    assert "Briefing" in html
    assert "2 recipients, 1 read" in html


@pytest.mark.parametrize("name", ["inbox", "sent", "compose"])
def test_non_member_gets_404_on_operation_pages(client, cocair, officer, outsider, name):
    client.force_login(outsider.user)
    assert client.get(reverse(f"messaging:{name}", args=["cocair"])).status_code == 404


def test_message_is_404_for_non_members_and_for_members_it_was_not_sent_to(
    client, cocair, ocu, officer, colleague, outsider
):
    message = message_send(
        sender=ocu.user,
        operation=cocair,
        subject="s",
        body="b",
        targets=Targets(users=("officer",)),
    )
    url = reverse("messaging:detail", args=["cocair", message.pk])
    for who, status in ((ocu, 200), (officer, 200), (colleague, 404), (outsider, 404)):
        client.force_login(who.user)
        assert client.get(url).status_code == status, who.user.username
    # The same id under another operation's slug does not exist either.
    client.force_login(outsider.user)
    assert (
        client.get(reverse("messaging:detail", args=["elsewhere", message.pk])).status_code == 404
    )


def test_member_who_left_loses_access_at_once(client, cocair, ocu, officer):
    message = message_send(
        sender=ocu.user, operation=cocair, subject="s", body="b", targets=Targets(officers=True)
    )
    officer.active = False
    officer.save()
    client.force_login(officer.user)
    assert client.get(reverse("messaging:inbox", args=["cocair"])).status_code == 404
    assert client.get(reverse("messaging:detail", args=["cocair", message.pk])).status_code == 404


def test_anonymous_is_sent_to_login(client, cocair):
    response = client.get(reverse("messaging:inbox", args=["cocair"]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
