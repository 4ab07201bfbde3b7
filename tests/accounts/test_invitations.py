"""Invitations by e-mail: a one-time link, valid 72 hours, to set a password and join."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Authenticator, Invitation, Membership, Role, User
from tests.factories import UserFactory
from tests.otp import totp_code

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Sable-Mouvant-2026!"


def invite(client, slug="cocair", **overrides):
    data = {
        "email": "Aminata.Diop@douanes.example",
        "full_name": "Aminata Diop",
        "role": "national_contact",
        "country": "SN",
        "airport": "DSS",
        "language": "fr",
    }
    data.update(overrides)
    return client.post(reverse("manage:invite", args=[slug]), data)


def link_in(message) -> str:
    return re.search(r"https?://\S+/accounts/invitation/\S+/", message.body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def accept(client, link, username="adiop", password=NEW_PASSWORD, again=None):
    return client.post(
        path_of(link),
        {"username": username, "password": password, "password_again": again or password},
    )


@pytest.fixture
def invited(client, ocu, django_capture_on_commit_callbacks):
    """The OCU lead invites a French-speaking national contact; returns the link."""
    client.force_login(ocu.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client)
    assert response.status_code == 302
    client.logout()
    assert len(mail.outbox) == 1
    return link_in(mail.outbox[0])


def test_invitation_end_to_end(client, cocair, ocu, invited):
    message = mail.outbox[0]
    assert message.to == ["aminata.diop@douanes.example"]
    assert "Point de contact national" in message.body  # the role, in the invitee's French
    assert "COCAIR VI" in message.subject
    # Only a hash of the link's secret is stored.
    invitation = Invitation.objects.get()
    secret = invited.rstrip("/").rsplit("/", 1)[1]
    assert secret not in invitation.key_hash
    assert invitation.expires_at - invitation.created_at == timedelta(hours=72)

    page = client.get(path_of(invited))
    assert page.status_code == 200
    assert '<html lang="fr"' in page.content.decode()  # the language the inviter chose
    response = accept(client, invited)
    assert response.status_code == 302
    # The password is set; the login goes on with the second factor, enrolment first.
    assert response.url == reverse("accounts:second_factor")
    assert client.get(response.url).url == reverse("accounts:enrol")

    user = User.objects.get(username="adiop")
    assert user.check_password(NEW_PASSWORD)
    assert (user.email, user.full_name, str(user.country), user.airport) == (
        "aminata.diop@douanes.example",
        "Aminata Diop",
        "SN",
        "DSS",
    )
    assert user.preferred_language == "fr"
    membership = Membership.objects.get(user=user, operation=cocair)
    assert membership.active and membership.role == Role.NATIONAL_CONTACT
    event = AuditEvent.objects.get(action="membership.added")
    assert event.data["invited_by"] == "ocu"
    # Not signed in before the second factor; once enrolled, signed in and a member.
    assert client.get(reverse("messaging:inbox", args=["cocair"])).status_code == 302
    client.get(reverse("accounts:enrol"))
    device = Authenticator.objects.get(user=user)
    done = client.post(reverse("accounts:enrol"), {"code": totp_code(device)})
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert client.get(reverse("messaging:inbox", args=["cocair"])).status_code == 200


def test_a_used_link_is_refused(client, invited):
    assert accept(client, invited).status_code == 302
    client.logout()
    again = client.get(path_of(invited))
    assert again.status_code == 404
    assert "not valid" in again.content.decode()
    assert accept(client, invited, username="someone-else").status_code == 404
    assert User.objects.filter(email__iexact="aminata.diop@douanes.example").count() == 1


def test_an_expired_link_is_refused(client, invited):
    with time_machine.travel(timezone.now() + timedelta(hours=72, seconds=1)):
        assert client.get(path_of(invited)).status_code == 404
        assert accept(client, invited).status_code == 404
    assert not User.objects.filter(username="adiop").exists()


def test_a_link_still_works_just_before_72_hours(client, invited):
    with time_machine.travel(timezone.now() + timedelta(hours=71, minutes=59)):
        assert accept(client, invited).status_code == 302


def test_an_unknown_link_is_refused(client, cocair):
    assert client.get("/accounts/invitation/not-a-secret/").status_code == 404


def test_a_weak_password_or_a_taken_username_is_a_field_error(client, ocu, invited):
    weak = accept(client, invited, password="123")
    assert weak.status_code == 400
    assert weak.context["form"].errors["password"]
    taken = accept(client, invited, username="ocu")
    assert taken.context["form"].errors["username"] == ["This username is taken: choose another."]
    differ = accept(client, invited, again="something else")
    assert differ.context["form"].errors["password_again"]
    assert not User.objects.filter(email__iexact="aminata.diop@douanes.example").exists()
    assert Invitation.objects.get().accepted_at is None  # still usable
    assert accept(client, invited).status_code == 302


def test_an_invitation_to_an_address_already_a_member_is_refused(client, ocu, officer):
    client.force_login(ocu.user)
    response = invite(client, email=officer.user.email.upper())
    assert response.status_code == 400
    assert response.context["invite_form"].errors["email"] == [
        f"{officer.user.email} is already a member of this operation."
    ]
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_an_invitation_to_an_existing_account_says_to_add_it(client, ocu):
    UserFactory(username="known", email="known@example.org")
    client.force_login(ocu.user)
    response = invite(client, email="known@example.org")
    assert response.status_code == 400
    assert "add that user as a member instead" in response.content.decode()


def test_a_new_invitation_supersedes_the_pending_one(
    client, ocu, invited, django_capture_on_commit_callbacks
):
    client.force_login(ocu.user)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, language="es")
    client.logout()
    second = link_in(mail.outbox[1])
    assert "Agente" in mail.outbox[1].body or "Punto" in mail.outbox[1].body
    assert client.get(path_of(invited)).status_code == 404
    assert client.get(path_of(second)).status_code == 200


def test_the_api_invites_and_refuses_a_member(client, ocu, officer):
    client.force_login(ocu.user)
    created = client.post(
        "/api/v1/manage/operations/cocair/invitations",
        {"email": "new@example.org", "full_name": "New Person", "role": "officer"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["email"] == "new@example.org"
    refused = client.post(
        "/api/v1/manage/operations/cocair/invitations",
        {"email": officer.user.email, "full_name": "Again", "role": "officer"},
        content_type="application/json",
    )
    assert refused.status_code == 409
    assert refused.json()["field"] == "email"
    unknown_airport = client.post(
        "/api/v1/manage/operations/cocair/invitations",
        {"email": "x@example.org", "full_name": "X", "role": "officer", "airport": "QQQ"},
        content_type="application/json",
    )
    assert unknown_airport.status_code == 400
    assert unknown_airport.json()["field"] == "airport"


def test_an_officer_cannot_invite(client, officer):
    client.force_login(officer.user)
    assert invite(client).status_code == 404
    assert not Invitation.objects.exists()
