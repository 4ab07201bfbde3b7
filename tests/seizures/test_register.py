"""The seizure register's pages: direct entry, the domain's refusals, corrections with their
history, who may correct, filters and sort, and what non-members never see."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, OperationStatus, Role
from messaging.formatted import SeizureInput
from messaging.routing import Targets
from messaging.services import message_send
from seizures.models import Seizure, SeizureRevision
from seizures.services import seizure_create
from tests.factories import OperationFactory, member

pytestmark = pytest.mark.django_db


# --- fixtures (also used by test_api.py) ----------------------------------------------------


@pytest.fixture
def cocair():
    return OperationFactory(slug="cocair", name="COCAIR VI")


@pytest.fixture
def ocu(cocair):
    return member(cocair, Role.OCU, "BE", "BRU", username="ocu")


@pytest.fixture
def officer(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="officer")


@pytest.fixture
def colleague(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="colleague")


@pytest.fixture
def outsider():
    """An active member of another operation only."""
    return member(OperationFactory(slug="elsewhere"), Role.OCU, "SN", "DSS", username="outsider")


def seizure_input(**overrides) -> SeizureInput:
    values = {
        "seized_at": timezone.now() - timedelta(hours=2),
        "airport": "DSS",
        "commodity": "cocaine",
        "quantity": Decimal("2.5"),
        "unit": "kg",
        "concealment": "checked_baggage",
        "detection": "profiling",
        "flight_number": "AT525",
        "departure": "GRU",
        "transit": ("CMN",),
        "destination": "SN",
        "persons_arrested": 1,
        "arrested_nationalities": ("BR",),
    }
    values.update(overrides)
    return SeizureInput(**values)


def record(membership, **overrides) -> Seizure:
    """A seizure recorded in the register by ``membership``'s user, in its operation."""
    return seizure_create(
        reported_by=membership.user,
        operation=membership.operation,
        data=seizure_input(**overrides),
    )


def entry_form(**overrides) -> dict:
    data = {
        "operation": "cocair",
        "seized_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "airport": "DSS",
        "commodity": "cocaine",
        "quantity": "2.500",
        "unit": "kg",
        "concealment": "checked_baggage",
        "detection": "profiling",
        "flight_number": "at 525",
        "departure": "gru",
        "transit": ["CMN", ""],
        "destination": "SN",
        "persons_arrested": "1",
        "arrested_nationalities": ["BR"],
        "companies_incriminated": "0",
        "notes": "False bottom in a suitcase.",
    }
    data.update(overrides)
    return data


def correction_form(seizure: Seizure, **overrides) -> dict:
    data = {
        "seized_at": timezone.localtime(seizure.seized_at).strftime("%Y-%m-%dT%H:%M"),
        "airport": seizure.airport,
        "commodity": seizure.commodity,
        "quantity": str(seizure.quantity),
        "unit": seizure.unit,
        "currency": seizure.currency,
        "amount": "" if seizure.amount is None else str(seizure.amount),
        "usd_value": "" if seizure.usd_value is None else str(seizure.usd_value),
        "concealment": seizure.concealment,
        "detection": seizure.detection,
        "flight_number": seizure.flight_number,
        "departure": seizure.departure,
        "transit": list(seizure.transit),
        "destination": seizure.destination,
        "persons_arrested": str(seizure.persons_arrested),
        "arrested_nationalities": list(seizure.arrested_nationalities),
        "companies_incriminated": str(seizure.companies_incriminated),
        "notes": seizure.notes,
        "reason": "Weighed again at the laboratory.",
    }
    data.update(overrides)
    return data


REGISTER = reverse("seizures:register")
NEW = reverse("seizures:new")


def detail_url(seizure):
    return reverse("seizures:detail", args=[seizure.id])


def edit_url(seizure):
    return reverse("seizures:edit", args=[seizure.id])


# --- direct entry ---------------------------------------------------------------------------


def test_officer_records_a_seizure_without_a_message(client, officer):
    client.force_login(officer.user)
    page = client.get(NEW)
    assert page.status_code == 200
    assert b'value="cocair"' in page.content

    response = client.post(NEW, entry_form())

    seizure = Seizure.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(seizure)
    assert seizure.message is None
    assert seizure.operation.slug == "cocair"
    assert seizure.reported_by == officer.user
    assert seizure.quantity == Decimal("2.5")
    assert seizure.flight_number == "AT525"
    assert seizure.departure == "GRU"
    assert seizure.transit == ["CMN"]
    assert str(seizure.country) == "SN"
    assert seizure.notes == "False bottom in a suitcase."
    assert AuditEvent.objects.filter(action="seizure.recorded", object_id=str(seizure.pk)).exists()


def test_a_seizure_can_be_recorded_outside_any_operation(client, officer):
    client.force_login(officer.user)
    client.post(NEW, entry_form(operation=""))
    seizure = Seizure.objects.get()
    assert seizure.operation is None
    assert client.get(detail_url(seizure)).status_code == 200


def test_a_seizure_about_an_alert_belongs_to_the_alert_operation(client, officer, ocu):
    alert = message_send(
        sender=ocu.user,
        operation=ocu.operation,
        kind="free_text",
        subject="x",
        body="x",
        targets=Targets(officers=True),
    )
    alert.kind = "alert"
    alert.save(update_fields=["kind"])
    client.force_login(officer.user)
    response = client.post(NEW, entry_form(operation="", alert_id=str(alert.id)))
    assert response.status_code == 302
    seizure = Seizure.objects.get()
    assert seizure.alert_id == alert.id
    assert seizure.operation == ocu.operation
    assert b"alert" in client.get(detail_url(seizure)).content


def test_an_alert_the_officer_cannot_read_is_refused(client, officer):
    client.force_login(officer.user)
    response = client.post(NEW, entry_form(alert_id="999"))
    assert response.status_code == 400
    assert b"No such alert in this operation." in response.content
    assert not Seizure.objects.exists()


def test_a_closed_operation_is_not_offered(client, officer, cocair):
    cocair.status = OperationStatus.CLOSED
    cocair.save()
    client.force_login(officer.user)
    response = client.post(NEW, entry_form())
    assert response.status_code == 400
    assert "operation" in response.context["form"].errors
    assert not Seizure.objects.exists()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"quantity": "-1"}, "quantity", "The quantity must be greater than zero."),
        (
            {"commodity": "currency", "currency": "EUR", "amount": "10000", "unit": "kg"},
            "unit",
            "This commodity is counted in units or pieces",
        ),
        ({"airport": "XXX"}, "airport", "Unknown IATA airport code: XXX."),
        ({"departure": "QQ"}, "departure", "Unknown ISO 3166 country code: QQ."),
        ({"arrested_nationalities": ["QQ"]}, "arrested_nationalities", "Unknown ISO 3166"),
        ({"commodity": "currency", "unit": "units"}, "currency", "ISO 4217"),
        (
            {"seized_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
            "seized_at",
            "The seizure cannot be in the future.",
        ),
        ({"persons_arrested": "999999999999"}, "persons_arrested", ""),
    ],
    ids=[
        "negative-quantity",
        "cash-in-kg",
        "unknown-airport",
        "unknown-country",
        "unknown-nationality",
        "cash-without-currency",
        "future-date",
        "absurd-count",
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_stored(
    client, officer, overrides, field, message
):
    client.force_login(officer.user)
    response = client.post(NEW, entry_form(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Seizure.objects.exists()


def test_non_member_cannot_record_into_an_operation(client, outsider, cocair):
    client.force_login(outsider.user)
    response = client.post(NEW, entry_form(operation="cocair"))
    assert response.status_code == 400
    assert "operation" in response.context["form"].errors
    assert not Seizure.objects.exists()


# --- corrections ----------------------------------------------------------------------------


def test_the_reporter_corrects_and_the_history_shows_before_and_after(client, officer):
    seizure = record(officer)
    client.force_login(officer.user)
    assert edit_url(seizure) in client.get(detail_url(seizure)).content.decode()
    assert client.get(edit_url(seizure)).status_code == 200

    response = client.post(
        edit_url(seizure), correction_form(seizure, quantity="3.1", airport="CMN")
    )

    assert response.status_code == 302
    seizure.refresh_from_db()
    assert seizure.quantity == Decimal("3.1")
    assert seizure.airport == "CMN"
    assert str(seizure.country) == "MA"
    revision = SeizureRevision.objects.get(seizure=seizure)
    assert revision.changed_by == officer.user
    assert revision.before == {"airport": "DSS", "country": "SN", "quantity": "2.5"}
    assert revision.after == {"airport": "CMN", "country": "MA", "quantity": "3.1"}
    assert revision.reason == "Weighed again at the laboratory."
    assert AuditEvent.objects.filter(action="seizure.corrected", object_id=str(seizure.pk)).exists()
    page = client.get(detail_url(seizure)).content.decode()
    assert "Weighed again at the laboratory." in page
    assert "<del>2.5</del>" in page and "<ins>3.1</ins>" in page
    assert "Morocco" in page


def test_the_ocu_of_the_operation_corrects_a_seizure(client, officer, ocu):
    seizure = record(officer)
    client.force_login(ocu.user)
    response = client.post(edit_url(seizure), correction_form(seizure, detection="dog"))
    assert response.status_code == 302
    revision = SeizureRevision.objects.get()
    assert revision.changed_by == ocu.user
    assert revision.before == {"detection": "profiling"}
    assert revision.after == {"detection": "dog"}


def test_a_correction_needs_a_reason_and_a_change(client, officer):
    seizure = record(officer)
    client.force_login(officer.user)
    no_reason = client.post(edit_url(seizure), correction_form(seizure, quantity="4", reason=""))
    assert no_reason.status_code == 400
    assert "reason" in no_reason.context["form"].errors
    unchanged = client.post(edit_url(seizure), correction_form(seizure))
    assert unchanged.status_code == 400
    assert not SeizureRevision.objects.exists()


def test_a_bad_correction_is_refused_and_nothing_changes(client, officer):
    seizure = record(officer)
    client.force_login(officer.user)
    response = client.post(
        edit_url(seizure),
        correction_form(seizure, unit="l", commodity="currency", currency="EUR", amount="5"),
    )
    assert response.status_code == 400
    seizure.refresh_from_db()
    assert seizure.commodity == "cocaine"
    assert not SeizureRevision.objects.exists()


def test_another_officer_may_not_correct(client, officer, colleague):
    seizure = record(officer)
    client.force_login(colleague.user)
    page = client.get(detail_url(seizure))
    assert page.status_code == 200
    assert edit_url(seizure) not in page.content.decode()
    assert client.get(edit_url(seizure)).status_code == 403
    assert client.post(edit_url(seizure), correction_form(seizure, quantity="9")).status_code == 403
    seizure.refresh_from_db()
    assert seizure.quantity == Decimal("2.5")


def test_non_member_sees_nothing_of_another_operation(client, officer, outsider):
    seizure = record(officer)
    client.force_login(outsider.user)
    register = client.get(REGISTER)
    assert register.status_code == 200
    assert register.context["page"].paginator.count == 0
    assert client.get(detail_url(seizure)).status_code == 404
    assert client.get(edit_url(seizure)).status_code == 404
    assert client.post(edit_url(seizure), correction_form(seizure, quantity="9")).status_code == 404
    filtered = client.get(REGISTER, {"operation": "cocair"})
    assert filtered.status_code == 400
    assert "operation" in filtered.context["form"].errors


# --- the register: filters and sort -----------------------------------------------------------


@pytest.fixture
def three(officer, ocu):
    """Three seizures: cocaine at DSS from GRU, cannabis at BRU via CMN, currency at DSS."""
    now = timezone.now()
    return [
        record(officer, seized_at=now - timedelta(days=3), quantity=Decimal("10")),
        record(
            ocu,
            seized_at=now - timedelta(days=2),
            airport="BRU",
            commodity="cannabis",
            quantity=Decimal("50"),
            detection="dog",
            departure="",
            transit=("CMN",),
            destination="BE",
        ),
        record(
            officer,
            seized_at=now - timedelta(days=1),
            commodity="currency",
            unit="units",
            quantity=Decimal("1"),
            currency="EUR",
            amount=Decimal("100000"),
            detection="scanner",
            departure="FR",
            transit=(),
            destination="SN",
            persons_arrested=0,
            arrested_nationalities=(),
        ),
    ]


def ids(response):
    return [s.id for s in response.context["page"].object_list]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, [2, 1, 0]),
        ({"commodity": "cannabis"}, [1]),
        ({"airport": "DSS"}, [2, 0]),
        ({"country": "BE"}, [1]),
        ({"detection": "scanner"}, [2]),
        ({"route_country": "BR"}, [0]),  # departure GRU, an airport of Brazil
        ({"route_country": "MA"}, [1, 0]),  # transit CMN
        ({"route_country": "FR"}, [2]),  # departure given as a country
        ({"route_country": "SN"}, [2, 0]),  # destination SN
        ({"operation": "cocair"}, [2, 1, 0]),
        ({"operation": "none"}, []),
        ({"sort": "date"}, [0, 1, 2]),
        ({"sort": "-quantity"}, [1, 0, 2]),
        ({"sort": "quantity"}, [2, 0, 1]),
        ({"sort": "airport"}, [1, 2, 0]),
        ({"sort": "-commodity"}, [2, 0, 1]),
    ],
)
def test_register_filters_and_sorts(client, officer, three, params, expected):
    client.force_login(officer.user)
    response = client.get(REGISTER, params)
    assert response.status_code == 200
    assert ids(response) == [three[i].id for i in expected]


def test_register_filters_by_date_range(client, officer, three):
    today = timezone.localdate()
    client.force_login(officer.user)
    response = client.get(
        REGISTER,
        {
            "date_from": (today - timedelta(days=2)).isoformat(),
            "date_to": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert ids(response) == [three[2].id, three[1].id]


@pytest.mark.parametrize(
    "params",
    [
        {"commodity": "gold"},
        {"airport": "ZZZ"},
        {"country": "QQ"},
        {"date_from": "yesterday"},
        {"date_from": "2017-12-10", "date_to": "2017-12-01"},
        {"sort": "price"},
        {"operation": "nowhere"},
        {"page": "x", "detection": "psychic"},
    ],
)
def test_invalid_filters_are_form_errors_never_500(client, officer, three, params):
    client.force_login(officer.user)
    response = client.get(REGISTER, params)
    assert response.status_code == 400
    assert response.context["form"].errors


def test_register_paginates_by_fifty(client, officer):
    for _ in range(51):
        record(officer)
    client.force_login(officer.user)
    first = client.get(REGISTER)
    assert len(first.context["page"].object_list) == 50
    assert "page=2" in first.content.decode()
    second = client.get(REGISTER, {"page": 2, "commodity": "cocaine"})
    assert len(second.context["page"].object_list) == 1


def test_every_page_renders_with_coded_values_by_name(client, officer, three):
    client.force_login(officer.user)
    register = client.get(REGISTER).content.decode()
    assert "Cannabis" in register and "Detector dog" in register
    detail = client.get(detail_url(three[2])).content.decode()
    assert "Currency" in detail
    assert "Scanner / X-ray" in detail
    assert "France" in detail
    assert "Senegal" in detail
    assert "Dakar" in detail
    assert client.get(NEW).status_code == 200
    assert client.get(edit_url(three[2])).status_code == 200


def test_the_nav_links_to_the_register(client, officer):
    client.force_login(officer.user)
    page = client.get(reverse("accounts:operations")).content.decode()
    assert f'href="{REGISTER}"' in page


def test_correcting_the_notes_keeps_their_text_out_of_the_history(client, officer):
    seizure = record(officer)
    client.force_login(officer.user)
    response = client.post(
        edit_url(seizure), correction_form(seizure, notes="Informant KESTREL-77 named the courier.")
    )
    assert response.status_code == 302
    seizure.refresh_from_db()
    assert seizure.notes == "Informant KESTREL-77 named the courier."
    revision = SeizureRevision.objects.get(seizure=seizure)
    assert revision.after == {"notes": "…"}
    assert "KESTREL-77" not in str(revision.before) + str(revision.after)
