"""Creating an operation (administrators): translated names, dates, countries, airports,
deadlines; from an earlier operation; and every bad input a clear error with nothing written."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from accounts.models import AuditEvent, Membership, Operation, OperationStatus, Role
from tests.factories import OperationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    data = {
        "slug": "cocair-7",
        "name_en": "COCAIR VII",
        "name_fr": "COCAIR VII (fr)",
        "description_en": "Cocaine route, seventh edition",
        "description_es": "Ruta de la cocaína, séptima edición",
        "start_date": "2026-12-09",
        "end_date": "2026-12-17",
        "countries": ["SN", "BE", "FR"],
        "airports": "DSS, bru cdg",
        "ack_minutes_urgent": "20",
        "ack_minutes_normal": "90",
        "copy_from": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def frozen():
    with time_machine.travel(date(2026, 11, 22), tick=False):
        yield


def test_an_administrator_creates_an_operation_with_its_translations(client, admin, frozen):
    client.force_login(admin)
    response = client.post(reverse("manage:operation_new"), form_data())
    assert response.status_code == 302
    operation = Operation.objects.get(slug="cocair-7")
    assert response.url == reverse("manage:operation", args=["cocair-7"])
    assert (operation.start_date, operation.end_date) == (date(2026, 12, 9), date(2026, 12, 17))
    assert operation.status == OperationStatus.PLANNED
    assert [str(c) for c in operation.countries] == ["BE", "FR", "SN"]
    assert operation.airports == ["DSS", "BRU", "CDG"]
    assert (operation.ack_minutes_urgent, operation.ack_minutes_normal) == (20, 90)
    with translation.override("fr"):
        assert operation.name == "COCAIR VII (fr)"
    with translation.override("es"):
        assert operation.description == "Ruta de la cocaína, séptima edición"
        assert operation.name == "COCAIR VII"  # falls back to English
    assert AuditEvent.objects.filter(action="operation.created", operation=operation).exists()


def test_an_operation_whose_start_date_has_come_is_created_active(client, admin, frozen):
    client.force_login(admin)
    client.post(reverse("manage:operation_new"), form_data(start_date="2026-11-22"))
    assert Operation.objects.get(slug="cocair-7").status == OperationStatus.ACTIVE


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_date": "2026-12-01"}, "end_date", "The end date is before the start date."),
        ({"airports": "DSS, XQX"}, "airports", "Unknown airport code: XQX."),
        ({"slug": "Cocair 7!"}, "slug", None),
        ({"slug": "new"}, "slug", "Use lower-case letters, digits and hyphens only (at most 50)."),
        ({"name_en": ""}, "name_en", None),
        ({"ack_minutes_urgent": "0"}, "ack_minutes_urgent", None),
        ({"countries": ["SN", "ZZ"]}, "countries", None),
    ],
)
def test_bad_input_is_a_field_error_and_creates_nothing(
    client, admin, frozen, overrides, field, message
):
    client.force_login(admin)
    audited = AuditEvent.objects.count()  # the sign-in itself is audited
    response = client.post(reverse("manage:operation_new"), form_data(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    if message:
        assert errors[field] == [message]
        assert message in response.content.decode()
    assert not Operation.objects.exists()
    assert AuditEvent.objects.count() == audited


def test_a_duplicate_slug_is_refused(client, admin, frozen):
    OperationFactory(slug="cocair-7")
    client.force_login(admin)
    response = client.post(reverse("manage:operation_new"), form_data())
    assert response.status_code == 400
    assert response.context["form"].errors["slug"] == ["Another operation already uses this slug."]
    assert Operation.objects.count() == 1


def test_creating_from_an_earlier_operation_copies_its_members_and_roles(client, admin, frozen):
    earlier = OperationFactory(slug="cocair-6", status=OperationStatus.CLOSED)
    ocu = member(earlier, Role.OCU, "BE", "BRU", username="ocu")
    contact = member(earlier, Role.NATIONAL_CONTACT, "SN", "DSS", username="cns")
    member(earlier, Role.OFFICER, "SN", "DSS", username="gone").user.delete()
    left = member(earlier, Role.OFFICER, "SN", "DSS", username="left")
    Membership.objects.filter(pk=left.pk).update(active=False)
    deactivated = member(earlier, Role.OFFICER, "SN", "DSS", username="deactivated")
    UserFactory._meta.model.objects.filter(pk=deactivated.user_id).update(is_active=False)
    client.force_login(admin)

    # The page starts from the earlier operation's texts and places.
    prefilled = client.get(reverse("manage:operation_new"), {"from": "cocair-6"})
    assert prefilled.context["form"].initial["copy_from"] == earlier.pk

    response = client.post(reverse("manage:operation_new"), form_data(copy_from=earlier.pk))
    assert response.status_code == 302
    operation = Operation.objects.get(slug="cocair-7")
    assert operation.created_from == earlier
    copied = {
        m.user.username: m.role for m in Membership.objects.filter(operation=operation, active=True)
    }
    assert copied == {"ocu": Role.OCU, "cns": Role.NATIONAL_CONTACT}
    assert AuditEvent.objects.filter(action="membership.added", operation=operation).count() == 2
    # The earlier operation is untouched.
    assert Membership.objects.get(pk=ocu.pk).operation == earlier
    assert Membership.objects.get(pk=contact.pk).active


def test_only_administrators_create_operations(client, ocu):
    client.force_login(ocu.user)
    assert client.get(reverse("manage:operation_new")).status_code == 404
    assert client.post(reverse("manage:operation_new"), form_data()).status_code == 404
    api = client.post("/api/v1/manage/operations", api_payload(), content_type="application/json")
    assert api.status_code == 404
    assert not Operation.objects.filter(slug="cocair-7").exists()


def api_payload(**overrides) -> dict:
    payload = {
        "slug": "cocair-7",
        "name": {"en": "COCAIR VII", "pt": "COCAIR VII (pt)"},
        "description": {"en": "Seventh edition"},
        "start_date": "2026-12-09",
        "end_date": "2026-12-17",
        "countries": ["SN", "BR"],
        "airports": ["DSS", "GRU"],
    }
    payload.update(overrides)
    return payload


def test_the_api_creates_an_operation(client, admin, frozen):
    client.force_login(admin)
    response = client.post(
        "/api/v1/manage/operations", api_payload(), content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "cocair-7"
    assert body["status"] == "planned"
    assert body["countries"] == ["BR", "SN"]
    assert body["airports"] == ["DSS", "GRU"]


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"end_date": "2026-12-01"}, 400, "end_date"),
        ({"airports": ["DSS", "QQQ"]}, 400, "airports"),
        ({"name": {"fr": "sans anglais"}}, 400, "name_en"),
        ({"slug": "cocair-6"}, 409, "slug"),
        ({"copy_members_from": "nowhere"}, 404, "copy_members_from"),
        ({"start_date": "not a date"}, 422, "start_date"),
    ],
)
def test_the_api_names_the_field_of_bad_input(client, admin, frozen, overrides, status, field):
    OperationFactory(slug="cocair-6")
    client.force_login(admin)
    response = client.post(
        "/api/v1/manage/operations", api_payload(**overrides), content_type="application/json"
    )
    assert response.status_code == status
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not Operation.objects.filter(slug="cocair-7").exists()


def test_the_api_copies_members_from_an_earlier_operation(client, admin, frozen):
    earlier = OperationFactory(slug="cocair-6")
    member(earlier, Role.OCU, "BE", "BRU", username="ocu")
    client.force_login(admin)
    response = client.post(
        "/api/v1/manage/operations",
        api_payload(copy_members_from="cocair-6"),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["members"] == 1
