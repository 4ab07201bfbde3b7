"""Deactivating a user (administrators) ends every session and API token at once."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken, AuditEvent, User
from accounts.services import api_token_create

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sessions_of(user) -> int:
    return sum(
        1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
    )


def test_deactivation_ends_sessions_and_tokens(client, admin, officer, ocu):
    laptop, phone, colleague = signed_in(officer.user), signed_in(officer.user), signed_in(ocu.user)
    _token, secret = api_token_create(user=officer.user, name="gate tablet")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    inbox = reverse("messaging:inbox", args=["cocair"])
    assert laptop.get(inbox).status_code == 200
    assert client.get("/api/v1/operations", **bearer).status_code == 200
    assert sessions_of(officer.user) == 2

    client.force_login(admin)
    response = client.post(reverse("manage:user_deactivate", args=["officer"]))
    assert response.status_code == 302

    assert not User.objects.get(pk=officer.user.pk).is_active
    assert sessions_of(officer.user) == 0
    assert laptop.get(inbox).status_code == 302  # to the login page
    assert phone.get("/api/v1/operations").status_code == 401
    assert ApiToken.objects.get(user=officer.user).revoked_at is not None
    assert Client().get("/api/v1/operations", **bearer).status_code == 401
    # Nobody else is signed out.
    assert colleague.get(inbox).status_code == 200
    event = AuditEvent.objects.get(action="user.deactivated")
    assert (event.actor, event.data["tokens_revoked"], event.data["sessions_ended"]) == (
        admin,
        1,
        2,
    )


def test_the_api_deactivates_a_user(client, admin, officer):
    client.force_login(admin)
    response = client.post("/api/v1/manage/users/officer/deactivate")
    assert response.status_code == 204
    assert not User.objects.get(pk=officer.user.pk).is_active


def test_only_administrators_deactivate_and_not_themselves(client, admin, ocu, officer):
    client.force_login(ocu.user)
    assert client.post(reverse("manage:user_deactivate", args=["officer"])).status_code == 404
    assert client.post("/api/v1/manage/users/officer/deactivate").status_code == 404
    assert client.get(reverse("manage:users")).status_code == 404
    client.force_login(admin)
    refused = client.post("/api/v1/manage/users/admin/deactivate")
    assert refused.status_code == 400
    assert refused.json()["field"] == "user"
    assert User.objects.filter(is_active=True).count() == 3


def test_the_users_page_finds_and_marks_users(client, admin, officer):
    client.force_login(admin)
    page = client.get(reverse("manage:users"), {"q": "offic"})
    assert [u.username for u in page.context["page"]] == ["officer"]
    assert reverse("manage:user_deactivate", args=["officer"]) in page.content.decode()
