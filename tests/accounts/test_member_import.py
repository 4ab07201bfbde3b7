"""Bulk adding members from CSV: every row checked first, all added or none, every bad row
listed with its line and field."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent, Membership, OperationStatus, Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "diallo": UserFactory(username="diallo", email="diallo@example.org", country="SN"),
        "silva": UserFactory(username="silva", email="silva@example.org", country="", airport=""),
        "martin": UserFactory(username="martin", email="Martin@Example.org", country="FR"),
    }


def upload(client, text: str, slug="cocair"):
    file = SimpleUploadedFile("members.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("manage:member_import", args=[slug]), {"file": file})


GOOD = (
    "username or email,role,country,airport\n"
    "diallo,officer,SN,DSS\n"
    "silva,national_contact,BR,GRU\n"
    "martin@example.org,ocu,,\n"
)


def test_every_row_joins_with_its_role_and_posting(client, ocu, people):
    client.force_login(ocu.user)
    response = upload(client, GOOD)
    assert response.status_code == 302
    roles = {
        m.user.username: m.role
        for m in Membership.objects.filter(operation=ocu.operation, active=True)
    }
    assert roles == {
        "ocu": Role.OCU,
        "diallo": Role.OFFICER,
        "silva": Role.NATIONAL_CONTACT,
        "martin": Role.OCU,
    }
    silva = User.objects.get(username="silva")
    assert (str(silva.country), silva.airport) == ("BR", "GRU")
    assert AuditEvent.objects.filter(action="membership.added").count() == 3


def test_one_bad_row_adds_nobody_and_every_bad_row_is_listed(client, ocu, officer, people):
    client.force_login(ocu.user)
    text = (
        "username or email,role,country,airport\n"
        "diallo,officer,SN,DSS\n"  # fine
        "ghost,officer,SN,DSS\n"  # line 3: unknown user
        "silva,captain,BR,GRU\n"  # line 4: unknown role
        "martin,officer,XX,\n"  # line 5: unknown country
        "officer,officer,SN,DSS\n"  # line 6: already a member
        "diallo,ocu,SN,QQQ\n"  # line 7: twice in the file, unknown airport
        "nobody@example.org,officer,BE,DSS\n"  # line 8: unknown e-mail, airport not in BE
    )
    audited = AuditEvent.objects.count()  # the sign-in itself is audited
    response = upload(client, text)
    assert response.status_code == 400
    errors = [(e.line, e.field) for e in response.context["import_errors"]]
    assert errors == [
        (3, "user"),
        (4, "role"),
        (5, "country"),
        (6, "user"),
        (7, "user"),
        (7, "airport"),
        (8, "user"),
        (8, "airport"),
    ]
    page = response.content.decode()
    assert "Unknown user: ghost." in page
    assert "Unknown role “captain”" in page
    assert "Unknown country code: XX." in page
    assert "Nothing was added: 8 errors in the file." in page
    # Nothing half-done: not even the good row, no posting changed, no audit row.
    assert set(Membership.objects.values_list("user__username", flat=True)) == {"ocu", "officer"}
    assert str(User.objects.get(username="martin").country) == "FR"
    assert AuditEvent.objects.count() == audited


def test_semicolons_and_no_header_are_accepted(client, ocu, people):
    client.force_login(ocu.user)
    assert upload(client, "diallo;officer;SN;DSS\r\nsilva;officer;;\r\n").status_code == 302
    assert Membership.objects.filter(operation=ocu.operation, active=True).count() == 3


def test_an_empty_file_is_refused(client, ocu):
    client.force_login(ocu.user)
    response = upload(client, "username or email,role,country,airport\n")
    assert response.status_code == 400
    assert [(e.line, e.field) for e in response.context["import_errors"]] == [(1, "file")]


def test_a_closed_operation_takes_no_member(client, ocu, people):
    ocu.operation.status = OperationStatus.CLOSED
    ocu.operation.save()
    client.force_login(ocu.user)
    response = upload(client, GOOD)
    assert response.status_code == 400
    assert "it takes no new member" in response.content.decode()
    assert Membership.objects.count() == 1


def test_the_api_lists_every_bad_row(client, ocu, people):
    client.force_login(ocu.user)
    bad = SimpleUploadedFile("m.csv", b"diallo,officer,SN,DSS\nghost,chief,SN,DSS\n")
    response = client.post("/api/v1/manage/operations/cocair/members/import", {"file": bad})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "file"
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(2, "user"), (2, "role")]
    assert Membership.objects.count() == 1
    good = SimpleUploadedFile("m.csv", GOOD.encode())
    response = client.post("/api/v1/manage/operations/cocair/members/import", {"file": good})
    assert response.status_code == 201
    assert response.json() == {"added": 3}
