"""The register's API: direct entry, refusals naming the field, corrections with history,
who may correct, filters and pages, and what non-members never see."""

# The fixtures come from test_register.py; tests naming them look like redefinitions to ruff.
# ruff: noqa: F811

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.services import api_token_create
from seizures.models import Seizure, SeizureRevision
from tests.seizures.test_register import (  # noqa: F401  (fixtures)
    cocair,
    colleague,
    ocu,
    officer,
    outsider,
    record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    def call(membership, method, path, body=None, **query):
        _token, secret = api_token_create(user=membership.user, name="t")
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        if body is not None:
            kwargs.update(data=body, content_type="application/json")
        elif query:
            kwargs["data"] = query
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return call


def payload(**overrides) -> dict:
    data = {
        "operation": "cocair",
        "seized_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "airport": "dss",
        "commodity": "cocaine",
        "quantity": "2.5",
        "unit": "kg",
        "concealment": "ingested",
        "detection": "profiling",
        "flight_number": "AT 525",
        "departure": "GRU",
        "transit": ["CMN"],
        "destination": "SN",
        "persons_arrested": 1,
        "arrested_nationalities": ["BR"],
        "notes": "Swallowed capsules.",
    }
    data.update(overrides)
    return data


def test_officer_records_a_seizure_through_the_api(api, officer):
    response = api(officer, "post", "/seizures", payload())
    assert response.status_code == 201, response.json()
    seizure = Seizure.objects.get(pk=response.json()["id"])
    assert seizure.operation.slug == "cocair"
    assert seizure.message is None
    assert seizure.airport == "DSS"
    assert seizure.quantity == Decimal("2.5")
    assert seizure.notes == "Swallowed capsules."

    shown = api(officer, "get", f"/seizures/{seizure.id}").json()
    assert shown["operation"] == "cocair"
    assert shown["commodity"] == "cocaine"
    assert shown["country"] == "SN"
    assert shown["transit"] == ["CMN"]
    assert shown["revisions"] == []


def test_a_seizure_outside_any_operation(api, officer):
    response = api(officer, "post", "/seizures", payload(operation=None))
    assert response.status_code == 201
    assert Seizure.objects.get().operation is None


@pytest.mark.parametrize(
    "overrides, status, field",
    [
        ({"quantity": "-1"}, 422, "quantity"),
        ({"commodity": "currency", "currency": "EUR", "amount": "100"}, 400, "unit"),
        ({"airport": "XXX"}, 400, "airport"),
        ({"destination": "QQ"}, 400, "destination"),
        ({"arrested_nationalities": ["QQ"]}, 400, "arrested_nationalities.0"),
        ({"seized_at": (timezone.now() + timedelta(days=2)).isoformat()}, 400, "seized_at"),
        ({"persons_arrested": 10**12}, 422, "persons_arrested"),
        ({"unit": "tons"}, 422, "unit"),
        ({"alert_id": 999}, 400, "alert_id"),
        ({"operation": "nowhere"}, 404, "operation"),
        ({"operation": "elsewhere"}, 404, "operation"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    api, officer, outsider, overrides, status, field
):
    response = api(officer, "post", "/seizures", payload(**overrides))
    assert response.status_code == status, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Seizure.objects.exists()


def test_reporter_corrects_through_the_api_with_history(api, officer):
    seizure = record(officer)
    response = api(
        officer,
        "patch",
        f"/seizures/{seizure.id}",
        {"quantity": "3.000", "concealment": "on_body", "reason": "Re-weighed."},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert Decimal(body["quantity"]) == Decimal("3")
    assert body["revisions"] == [
        {
            "changed_by": "officer",
            "changed_at": body["revisions"][0]["changed_at"],
            "reason": "Re-weighed.",
            "before": {"quantity": "2.5", "concealment": "checked_baggage"},
            "after": {"quantity": "3", "concealment": "on_body"},
        }
    ]


def test_ocu_corrects_and_bad_corrections_name_the_field(api, officer, ocu):
    seizure = record(officer)
    bad = api(ocu, "patch", f"/seizures/{seizure.id}", {"unit": "pieces", "reason": "x"})
    assert bad.status_code == 200  # cocaine may be counted in pieces (capsules)
    refused = api(
        ocu, "patch", f"/seizures/{seizure.id}", {"airport": "XXX", "reason": "Wrong airport"}
    )
    assert refused.status_code == 400
    assert refused.json()["field"] == "airport"
    no_reason = api(ocu, "patch", f"/seizures/{seizure.id}", {"quantity": "4"})
    assert no_reason.status_code == 422
    assert SeizureRevision.objects.filter(seizure=seizure).count() == 1
    assert SeizureRevision.objects.get().changed_by == ocu.user


def test_another_officer_gets_403_and_a_non_member_404(api, officer, colleague, outsider):
    seizure = record(officer)
    change = {"quantity": "9", "reason": "Mine now."}
    assert api(colleague, "get", f"/seizures/{seizure.id}").status_code == 200
    assert api(colleague, "patch", f"/seizures/{seizure.id}", change).status_code == 403
    assert api(outsider, "get", f"/seizures/{seizure.id}").status_code == 404
    assert api(outsider, "patch", f"/seizures/{seizure.id}", change).status_code == 404
    listed = api(outsider, "get", "/seizures").json()
    assert listed == {"seizures": [], "next_after": None}
    assert api(outsider, "get", "/seizures", operation="cocair").status_code == 404
    seizure.refresh_from_db()
    assert seizure.quantity == Decimal("2.5")
    assert not SeizureRevision.objects.exists()


def test_list_filters_and_pages(api, officer, ocu):
    now = timezone.now()
    first = record(officer, seized_at=now - timedelta(days=3))
    second = record(ocu, airport="BRU", commodity="cannabis", detection="dog")
    third = record(officer, seized_at=now - timedelta(days=1), departure="FR")

    def listed(**query):
        response = api(officer, "get", "/seizures", **query)
        assert response.status_code == 200, response.json()
        return [s["id"] for s in response.json()["seizures"]]

    assert listed() == [first.id, second.id, third.id]
    assert listed(commodity="cannabis") == [second.id]
    assert listed(airport="DSS") == [first.id, third.id]
    assert listed(country="BE") == [second.id]
    assert listed(detection="dog") == [second.id]
    assert listed(operation="cocair") == [first.id, second.id, third.id]
    assert listed(route_country="FR") == [third.id]
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert listed(**{"from": yesterday}) == [second.id, third.id]
    assert listed(to=(timezone.localdate() - timedelta(days=2)).isoformat()) == [first.id]

    page = api(officer, "get", "/seizures", limit=2).json()
    assert [s["id"] for s in page["seizures"]] == [first.id, second.id]
    assert page["next_after"] == second.id
    rest = api(officer, "get", "/seizures", limit=2, after=second.id).json()
    assert [s["id"] for s in rest["seizures"]] == [third.id]
    assert rest["next_after"] is None


@pytest.mark.parametrize(
    "query, field",
    [
        ({"commodity": "gold"}, "commodity"),
        ({"from": "yesterday"}, "from"),
        ({"airport": "TOOLONG"}, "airport"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_filters_name_the_field(api, officer, query, field):
    response = api(officer, "get", "/seizures", **query)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
