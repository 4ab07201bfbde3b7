"""Members managed by administrators and OCU leads: add, change a role, remove; the change
takes effect at once on every path (pages, API, attachments, websocket)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.members import membership_add
from accounts.models import AuditEvent, Membership, OperationStatus, Role
from aircop.exceptions import Conflict
from messaging.routing import Targets
from messaging.services import message_send
from tests.factories import OperationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def attachment_root(settings, tmp_path):
    settings.AIRCOP_ATTACHMENT_ROOT = tmp_path / "attachments"


def test_an_ocu_lead_adds_changes_and_removes_a_member(client, cocair, ocu):
    newcomer = UserFactory(username="newcomer", email="newcomer@example.org")
    client.force_login(ocu.user)
    added = client.post(
        reverse("manage:member_add", args=["cocair"]),
        {"user": "NEWCOMER@example.org", "role": "officer"},
    )
    assert added.status_code == 302
    membership = Membership.objects.get(user=newcomer, operation=cocair, active=True)
    assert membership.role == Role.OFFICER

    client.post(
        reverse("manage:member_role", args=["cocair", membership.pk]), {"role": "national_contact"}
    )
    assert Membership.objects.get(pk=membership.pk).role == Role.NATIONAL_CONTACT

    client.post(reverse("manage:member_remove", args=["cocair", membership.pk]))
    membership.refresh_from_db()
    assert not membership.active and membership.left_at is not None

    events = AuditEvent.objects.filter(operation=cocair).order_by("id")
    assert [(e.action, e.actor) for e in events] == [
        ("membership.added", ocu.user),
        ("membership.changed", ocu.user),
        ("membership.removed", ocu.user),
    ]
    assert events[1].data == {"user": "newcomer", "from": "officer", "to": "national_contact"}

    # A former member can be added again.
    again = client.post(
        reverse("manage:member_add", args=["cocair"]), {"user": "newcomer", "role": "ocu"}
    )
    assert again.status_code == 302
    assert Membership.objects.get(pk=membership.pk).active


def test_the_members_page_lists_members_and_the_nav_links_to_it(client, cocair, ocu, officer):
    client.force_login(ocu.user)
    inbox = client.get(reverse("messaging:inbox", args=["cocair"]))
    assert reverse("manage:operations") in inbox.content.decode()
    page = client.get(reverse("manage:operation", args=["cocair"]))
    assert page.status_code == 200
    assert [m.user.username for m in page.context["members"]] == ["ocu", "officer"]


def test_officers_and_outsiders_get_404_and_no_nav_link(client, cocair, officer):
    outsider = member(OperationFactory(slug="elsewhere"), Role.OCU, username="outsider")
    for user in (officer.user, outsider.user):
        client.force_login(user)
        assert client.get(reverse("manage:operation", args=["cocair"])).status_code == 404
        response = client.post(
            reverse("manage:member_add", args=["cocair"]), {"user": "admin", "role": "ocu"}
        )
        assert response.status_code == 404
        assert client.get("/api/v1/manage/operations/cocair/members").status_code == 404
    client.force_login(officer.user)
    inbox = client.get(reverse("messaging:inbox", args=["cocair"]))
    assert 'id="nav-manage"' not in inbox.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"user": "ghost", "role": "officer"}, "user", "No active account"),
        ({"user": "officer", "role": "officer"}, "user", "officer is already a member"),
        ({"user": "admin", "role": "captain"}, "role", "Select a valid choice"),
    ],
)
def test_adding_bad_input_is_a_field_error(client, ocu, officer, admin, data, field, message):
    client.force_login(ocu.user)
    response = client.post(reverse("manage:member_add", args=["cocair"]), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["add_form"].errors[field])
    assert Membership.objects.count() == 2


def test_a_closed_operation_takes_no_new_member(cocair, ocu, admin):
    cocair.status = OperationStatus.CLOSED
    cocair.save()
    with pytest.raises(Conflict) as refused:
        membership_add(actor=ocu.user, operation=cocair, user=admin, role=Role.OFFICER)
    assert refused.value.field == "operation"
    assert not Membership.objects.filter(user=admin).exists()


@pytest.fixture
def shared(cocair, ocu, officer):
    """A message with an attachment from the OCU to the officer."""
    message = message_send(
        sender=ocu.user,
        operation=cocair,
        subject="Passenger list",
        body="See attached.",
        targets=Targets(users=("officer",)),
        attachments=[SimpleUploadedFile("list.txt", b"ET 908 passengers\n")],
    )
    return message, message.attachments.get()


def urls_of(message, attachment) -> list[str]:
    slug = "cocair"
    return [
        reverse("messaging:inbox", args=[slug]),
        reverse("messaging:sent", args=[slug]),
        reverse("messaging:search", args=[slug]) + "?q=passenger",
        reverse("messaging:compose", args=[slug]),
        reverse("messaging:detail", args=[slug, message.pk]),
        reverse("messaging:attachment", args=[slug, message.pk, attachment.uid]),
        reverse("statistics:results", args=[slug]),
        f"/api/v1/operations/{slug}/inbox",
        f"/api/v1/operations/{slug}/members",
        f"/api/v1/messages/{message.pk}",
        f"/api/v1/messages/{message.pk}/attachments/{attachment.uid}",
    ]


def test_a_removed_member_gets_404_on_every_url(client, ocu, officer, shared):
    urls = urls_of(*shared)
    client.force_login(officer.user)
    assert [client.get(url).status_code for url in urls] == [200] * len(urls)

    manager = client.__class__()
    manager.force_login(ocu.user)
    manager.post(reverse("manage:member_remove", args=["cocair", officer.pk]))

    assert [client.get(url).status_code for url in urls] == [404] * len(urls)


def test_a_demoted_ocu_loses_the_ocu_pages_at_once(client, cocair, ocu, admin):
    client.force_login(ocu.user)
    assert client.get(reverse("messaging:followup", args=["cocair"])).status_code == 200
    assert client.get(reverse("manage:operation", args=["cocair"])).status_code == 200
    staff = client.__class__()
    staff.force_login(admin)
    response = staff.patch(
        "/api/v1/manage/operations/cocair/members/ocu",
        {"role": "officer"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["role"] == "officer"
    assert client.get(reverse("messaging:followup", args=["cocair"])).status_code == 403
    assert client.get(reverse("manage:operation", args=["cocair"])).status_code == 404


def test_the_api_lists_adds_and_removes_members(client, cocair, ocu, officer):
    UserFactory(username="newcomer")
    client.force_login(ocu.user)
    listed = client.get("/api/v1/manage/operations/cocair/members")
    assert [(m["username"], m["role"]) for m in listed.json()] == [
        ("ocu", "ocu"),
        ("officer", "officer"),
    ]
    added = client.post(
        "/api/v1/manage/operations/cocair/members",
        {"user": "newcomer", "role": "national_contact"},
        content_type="application/json",
    )
    assert added.status_code == 201
    duplicate = client.post(
        "/api/v1/manage/operations/cocair/members",
        {"user": "newcomer", "role": "officer"},
        content_type="application/json",
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "user"
    bad_role = client.patch(
        "/api/v1/manage/operations/cocair/members/newcomer",
        {"role": "chief"},
        content_type="application/json",
    )
    assert bad_role.status_code == 400
    assert bad_role.json()["field"] == "role"
    assert client.delete("/api/v1/manage/operations/cocair/members/newcomer").status_code == 204
    assert client.delete("/api/v1/manage/operations/cocair/members/newcomer").status_code == 404


def test_the_administration_list_shows_what_each_one_administers(client, cocair, ocu, admin):
    archived = OperationFactory(slug="cocair-5", status=OperationStatus.ARCHIVED)
    member(archived, Role.OCU, username="ocu5", email="ocu5@example.org")
    Membership.objects.create(user=ocu.user, operation=archived, role=Role.OCU)
    member(cocair, Role.OFFICER, username="officer1", email="o1@example.org")
    client.force_login(ocu.user)
    listed = client.get(reverse("manage:operations")).context["operations"]
    assert [(o.slug, o.member_count) for o in listed] == [("cocair", 2)]
    client.force_login(admin)
    page = client.get(reverse("manage:operations"))
    assert {o.slug for o in page.context["operations"]} == {"cocair", "cocair-5"}
    assert reverse("manage:operation_new") in page.content.decode()
