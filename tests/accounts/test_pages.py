"""Account pages: login, logout, profile and tokens, my operations, leaving, language."""

import pytest
from django.urls import reverse

from accounts.models import ApiToken, AuditEvent, Membership, Role
from accounts.tokens import token_hash
from tests.factories import PASSWORD, OperationFactory, UserFactory, member
from tests.otp import totp_code, totp_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return member(
        OperationFactory(slug="cocair", name="COCAIR VI"), Role.OFFICER, username="officer"
    )


def test_login_with_the_form_lands_in_the_operation_inbox(client, officer):
    client.post(reverse("accounts:login"), {"username": "officer", "password": PASSWORD})
    response = client.post(
        reverse("accounts:second_factor"),
        {"code": totp_code(totp_device(officer.user))},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("messaging:inbox", args=["cocair"])


def test_wrong_password_does_not_say_whether_the_user_exists(client, officer):
    wrong_password = client.post(
        reverse("accounts:login"), {"username": "officer", "password": "nope"}
    )
    no_such_user = client.post(reverse("accounts:login"), {"username": "ghost", "password": "nope"})
    assert wrong_password.status_code == no_such_user.status_code == 200
    errors = wrong_password.context["form"].non_field_errors()
    assert errors == no_such_user.context["form"].non_field_errors()


def test_logout_ends_the_session(client, officer):
    client.force_login(officer.user)
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("messaging:inbox", args=["cocair"])).status_code == 302


def test_user_without_operation_lands_on_my_operations(client):
    client.force_login(UserFactory(username="newcomer"))
    response = client.get("/")
    assert response.url == reverse("accounts:operations")


def test_token_is_shown_once_stored_hashed_and_revocable(client, officer):
    client.force_login(officer.user)
    response = client.post(reverse("accounts:token_create"), {"name": "gate tablet", "days": 30})
    secret = response.context["new_secret"]
    assert secret.startswith("acp_") and secret in response.content.decode()
    token = ApiToken.objects.get()
    assert token.key_hash == token_hash(secret) and secret not in token.key_hash
    # The token works for the API, and the profile never shows the secret again.
    api = client.get("/api/v1/operations", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.status_code == 200
    assert secret not in client.get(reverse("accounts:profile")).content.decode()

    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    client.logout()
    api = client.get("/api/v1/operations", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_token_form_errors_are_shown_and_nothing_created(client, officer):
    client.force_login(officer.user)
    response = client.post(reverse("accounts:token_create"), {"name": "", "days": 999})
    assert response.status_code == 400
    assert set(response.context["token_form"].errors) == {"name", "days"}
    assert ApiToken.objects.count() == 0


def test_cannot_revoke_someone_elses_token(client, officer):
    other = UserFactory(username="other")
    client.force_login(other)
    client.post(reverse("accounts:token_create"), {"name": "mine", "days": 30})
    token = ApiToken.objects.get()
    client.force_login(officer.user)
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_profile_saves_name_and_language_but_not_routing_fields(client, officer):
    client.force_login(officer.user)
    response = client.post(
        reverse("accounts:profile"),
        {
            "full_name": "Ibrahima Sow",
            "email": "i.sow@example.org",
            "preferred_language": "fr",
            "country": "NG",
            "airport": "LOS",
        },
    )
    assert response.status_code == 302
    officer.user.refresh_from_db()
    assert officer.user.full_name == "Ibrahima Sow"
    assert officer.user.preferred_language == "fr"
    assert (officer.user.country, officer.user.airport) == ("SN", "DSS")


def test_preferred_language_applies_after_login(client, officer):
    officer.user.preferred_language = "fr"
    officer.user.save()
    client.force_login(officer.user)
    response = client.get(reverse("accounts:operations"))
    assert response["Content-Language"] == "fr"
    assert '<html lang="fr"' in response.content.decode()


def test_language_switch_remembers_the_choice_in_the_profile(client, officer):
    client.force_login(officer.user)
    client.post(reverse("accounts:set_language"), {"language": "ar", "next": "/"})
    officer.user.refresh_from_db()
    assert officer.user.preferred_language == "ar"
    html = client.get(reverse("accounts:operations")).content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "bootstrap.rtl.min.css" in html


def test_login_page_follows_the_browser_language(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9")
    assert response["Content-Language"] == "pt"


def test_leaving_an_operation_ends_access_and_is_audited(client, officer):
    client.force_login(officer.user)
    leave = reverse("accounts:leave", args=["cocair"])
    assert client.get(leave).status_code == 200  # asks for confirmation first
    assert Membership.objects.get(pk=officer.pk).active
    client.post(leave)
    assert not Membership.objects.get(pk=officer.pk).active
    assert client.get(reverse("messaging:inbox", args=["cocair"])).status_code == 404
    assert client.get(leave).status_code == 404
    assert AuditEvent.objects.filter(action="membership.left", operation__slug="cocair").exists()


def test_operation_switcher_lists_each_operation_with_my_role(client, officer):
    second = OperationFactory(slug="caribe", name="Caribbean pilot")
    Membership.objects.create(user=officer.user, operation=second, role=Role.NATIONAL_CONTACT)
    client.force_login(officer.user)
    html = client.get(reverse("accounts:operations")).content.decode()
    assert "COCAIR VI" in html and "Caribbean pilot" in html
    assert "National contact point" in html


def test_password_change_page_changes_the_password(client, officer):
    client.force_login(officer.user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase-42",
            "new_password2": "another-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    officer.user.refresh_from_db()
    assert officer.user.check_password("another-long-passphrase-42")


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/operation/",
        "/admin/accounts/operation/add/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/accounts/membership/",
        "/admin/messaging/message/",
        "/admin/accounts/auditevent/",
        "/admin/accounts/apitoken/",
    ],
)
def test_admin_pages_work_for_an_administrator(admin_client, officer, path):
    assert admin_client.get(path).status_code == 200


def test_administrator_creates_an_operation_with_members_in_the_admin(admin_client, officer):
    response = admin_client.post(
        "/admin/accounts/operation/add/",
        {
            "name_en": "COCAIR VII",
            "slug": "cocair7",
            "description_en": "",
            "start_date": "2018-12-01",
            "end_date": "2018-12-09",
            "status": "planned",
            "ack_minutes_urgent": "15",
            "ack_minutes_normal": "120",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": officer.user.pk,
            "memberships-0-role": "ocu",
            "memberships-0-active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].errors
    membership = Membership.objects.get(operation__slug="cocair7")
    assert membership.user == officer.user and membership.role == Role.OCU
