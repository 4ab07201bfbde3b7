"""Alert, Response and Seizure through the API and the services: validation, the chain,
acknowledgement, the follow-up board, handling codes and forwarding."""

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from accounts.models import Role
from accounts.services import api_token_create
from aircop.exceptions import DomainError
from messaging.models import AlertDetails, AlertSubject, Delivery, Message
from messaging.realtime import user_group
from messaging.routing import Targets
from messaging.selectors import ack_due_at, delivery_is_overdue, followup_board
from messaging.services import delivery_acknowledge, message_forward, message_send
from seizures.models import Seizure
from tests.factories import OperationFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def nc(cocair):
    return member(cocair, Role.NATIONAL_CONTACT, "SN", "DSS", username="nc")


@pytest.fixture
def brazil(cocair):
    return member(cocair, Role.OFFICER, "BR", "GRU", username="brazil")


@pytest.fixture
def api(client):
    def call(user, method, path, body=None):
        _token, secret = api_token_create(user=user.user, name="t")
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        if body is not None:
            kwargs.update(data=body, content_type="application/json")
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return call


def alert_payload(**alert):
    return {
        "kind": "alert",
        "priority": "urgent",
        "body": "Passenger nervous at check-in.",
        "to": {"my_country": True},
        "alert": {
            "flight_number": "et 908",
            "airline": "Ethiopian Airlines",
            "flight_date": str(date.today()),
            "departure_airport": "gru",
            "transit_airports": ["ADD"],
            "destination_airport": "DSS",
            "subjects": [
                {
                    "name": "John Doe",
                    "nationality": "NG",
                    "document_type": "passport",
                    "document_number": "a12 345-678",
                    "pnr": "x7k2lm",
                    "seat": "23c",
                }
            ],
            "suspected_commodity": "cocaine",
            "risk_indicators": ["cash_ticket", "last_minute"],
            "requested_action": "Control baggage and person on arrival.",
            **alert,
        },
    }


def seizure_payload(**seizure):
    return {
        "kind": "seizure",
        "seizure": {
            "seized_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "airport": "DSS",
            "commodity": "cocaine",
            "quantity": "2.150",
            "unit": "kg",
            "concealment": "checked_baggage",
            "detection": "profiling",
            "flight_number": "ET908",
            "departure": "GRU",
            "transit": ["ET"],
            "destination": "DSS",
            "persons_arrested": 1,
            "arrested_nationalities": ["NG"],
            "companies_incriminated": 0,
            **seizure,
        },
    }


def send_alert(sender, operation, priority="normal", **targets):
    from messaging.formatted import AlertInput, SubjectInput

    return message_send(
        sender=sender.user,
        operation=operation,
        kind="alert",
        priority=priority,
        targets=Targets(**targets),
        details=AlertInput(
            flight_number="AT525",
            flight_date=date.today(),
            departure_airport="GRU",
            destination_airport="DSS",
            subjects=(SubjectInput(name="Jane Roe"),),
        ),
    )


# --- Alert ------------------------------------------------------------------------------


def test_alert_through_the_api_is_stored_normalised(api, cocair, officer, nc, colleague):
    response = api(officer, "post", "/operations/cocair/messages", alert_payload())
    assert response.status_code == 201, response.json()
    message = Message.objects.get()
    assert message.kind == "alert" and message.priority == "urgent"
    assert message.subject == f"ET908 GRU→DSS {date.today().isoformat()}"
    details = AlertDetails.objects.get(message=message)
    assert (details.flight_number, details.departure_airport) == ("ET908", "GRU")
    assert details.transit_airports == ["ADD"]
    assert details.risk_indicators == ["cash_ticket", "last_minute"]
    subject = AlertSubject.objects.get(message=message)
    assert (subject.document_number, subject.pnr, subject.seat) == ("A12345678", "X7K2LM", "23C")
    assert sorted(response.json()["recipients"]) == ["colleague", "nc"]


def test_alert_about_a_shipment_needs_no_passenger(api, cocair, officer, colleague):
    payload = alert_payload(subjects=[], air_waybill="071-1234 5675", consignee="ACME SARL")
    assert api(officer, "post", "/operations/cocair/messages", payload).status_code == 201
    assert AlertDetails.objects.get().air_waybill == "07112345675"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"departure_airport": "XXX"}, 400, "alert.departure_airport"),
        ({"transit_airports": ["ZZZ"]}, 400, "alert.transit_airports.0"),
        ({"flight_date": str(date.today() + timedelta(days=400))}, 400, "alert.flight_date"),
        ({"flight_number": "NOTAFLT"}, 400, "alert.flight_number"),
        ({"subjects": []}, 400, "alert.subjects"),
        ({"subjects": [{"name": "X", "nationality": "QQ"}]}, 400, "alert.subjects.0.nationality"),
        ({"suspected_commodity": "gold"}, 422, "alert.suspected_commodity"),
        ({"risk_indicators": ["astrology"]}, 422, "alert.risk_indicators.0"),
    ],
)
def test_bad_alert_is_refused_naming_the_field_and_nothing_is_stored(
    api, cocair, officer, colleague, change, status, field
):
    response = api(officer, "post", "/operations/cocair/messages", alert_payload(**change))
    assert response.status_code == status, response.json()
    fields = [e["field"] for e in response.json()["errors"]]
    assert field in fields
    assert not Message.objects.exists() and not AlertDetails.objects.exists()


def test_h3_needs_its_restriction(api, cocair, officer, colleague):
    payload = {**alert_payload(), "handling_code": "H3"}
    response = api(officer, "post", "/operations/cocair/messages", payload)
    assert response.status_code == 400 and response.json()["field"] == "handling_note"
    payload["handling_note"] = "Not to be shared with airline staff."
    assert api(officer, "post", "/operations/cocair/messages", payload).status_code == 201


# --- the chain ---------------------------------------------------------------------------


def test_alert_responses_and_seizure_form_one_thread(api, cocair, ocu, officer, brazil):
    alert = send_alert(brazil, cocair, ocus=True, my_country=True)
    # The Senegalese officer was not addressed by the Brazilian officer: make him a recipient
    # through the OCU, who forwards it.
    fwd = message_forward(forwarder=ocu.user, message=alert, targets=Targets(officers=True))
    assert Delivery.objects.filter(message=fwd, recipient=officer.user).exists()
    # The OCU answers the alert: positive, and negative from another control.
    for outcome in ("positive", "negative"):
        response = api(
            ocu,
            "post",
            "/operations/cocair/messages",
            {
                "kind": "response",
                "alert_id": alert.pk,
                "response": {"outcome": outcome, "action_taken": "Passenger searched."},
            },
        )
        assert response.status_code == 201, response.json()
        # By default a response goes to the alert's sender (and the other OCUs).
        assert "brazil" in response.json()["recipients"]
    seizure = api(
        ocu, "post", "/operations/cocair/messages", {**seizure_payload(), "alert_id": alert.pk}
    )
    assert seizure.status_code == 201, seizure.json()

    data = api(brazil, "get", f"/messages/{alert.pk}").json()
    assert [m["kind"] for m in data["thread"]] == ["response", "response", "seizure"]
    assert [m["outcome"] for m in data["thread"]][:2] == ["positive", "negative"]
    assert data["thread_summary"] == {"responses": 2, "positive": 1, "seizures": 1}
    # The OCU's delivery of the alert is now answered (and so acknowledged).
    delivery = Delivery.objects.get(message=alert, recipient=ocu.user)
    assert delivery.answered_at is not None and delivery.acknowledged_at is not None


def test_response_without_alert_or_to_another_operations_alert_is_refused(
    api, cocair, ocu, officer
):
    response = api(
        ocu,
        "post",
        "/operations/cocair/messages",
        {"kind": "response", "response": {"outcome": "negative"}},
    )
    assert response.status_code == 422
    assert "alert_id" in [e["field"] for e in response.json()["errors"]]

    other = OperationFactory(slug="other")
    foreign_ocu = member(other, Role.OCU, "BE", "BRU", username="foreign")
    member(other, Role.OFFICER, username="foreign_officer")
    foreign_alert = send_alert(foreign_ocu, other, officers=True)
    member(other, Role.OFFICER, username="x")
    response = api(
        ocu,
        "post",
        "/operations/cocair/messages",
        {
            "kind": "response",
            "alert_id": foreign_alert.pk,
            "response": {"outcome": "negative"},
        },
    )
    assert response.status_code == 400 and response.json()["field"] == "alert_id"
    assert Message.objects.filter(kind="response").count() == 0


def test_not_controlled_needs_a_reason(api, cocair, ocu, officer):
    alert = send_alert(ocu, cocair, officers=True)
    response = api(
        officer,
        "post",
        "/operations/cocair/messages",
        {
            "kind": "response",
            "alert_id": alert.pk,
            "response": {"outcome": "not_controlled"},
        },
    )
    assert response.status_code == 400
    assert response.json()["field"] == "response.not_controlled_reason"


# --- Seizure -------------------------------------------------------------------------------


def test_seizure_message_creates_the_complete_seizure_record(api, cocair, ocu, officer):
    alert = send_alert(ocu, cocair, officers=True)
    response = api(
        officer,
        "post",
        "/operations/cocair/messages",
        {**seizure_payload(), "alert_id": alert.pk, "body": "In a false bottom."},
    )
    assert response.status_code == 201, response.json()
    message = Message.objects.get(kind="seizure")
    seizure = Seizure.objects.get()
    assert seizure.message == message and seizure.alert == alert
    assert seizure.operation == cocair and seizure.reported_by == officer.user
    assert (seizure.airport, str(seizure.country)) == ("DSS", "SN")
    assert (seizure.commodity, seizure.quantity, seizure.unit) == (
        "cocaine",
        Decimal("2.150"),
        "kg",
    )
    assert (seizure.concealment, seizure.detection) == ("checked_baggage", "profiling")
    assert (seizure.departure, seizure.transit, seizure.destination) == ("GRU", ["ET"], "DSS")
    assert (seizure.persons_arrested, seizure.arrested_nationalities) == (1, ["NG"])
    assert seizure.notes == "In a false bottom."
    shown = api(officer, "get", f"/messages/{message.pk}").json()["seizure"]
    assert (shown["commodity"], shown["quantity"], shown["transit"]) == ("cocaine", "2.150", ["ET"])


def test_seizure_without_alert_or_recipients_goes_to_the_ocus(api, cocair, ocu, officer):
    response = api(officer, "post", "/operations/cocair/messages", seizure_payload())
    assert response.status_code == 201
    assert response.json()["recipients"] == ["ocu"]


def test_currency_seizure(api, cocair, ocu, officer):
    payload = seizure_payload(
        commodity="currency",
        quantity="1",
        unit="units",
        currency="eur",
        amount="250000",
        usd_value="295000",
    )
    assert api(officer, "post", "/operations/cocair/messages", payload).status_code == 201
    seizure = Seizure.objects.get()
    assert (seizure.currency, seizure.amount) == ("EUR", Decimal("250000.00"))


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"quantity": "0"}, 422, "seizure.quantity"),
        ({"quantity": "-3"}, 422, "seizure.quantity"),
        ({"commodity": "gold"}, 422, "seizure.commodity"),
        ({"airport": "QQQ"}, 400, "seizure.airport"),
        ({"commodity": "currency", "unit": "units", "amount": "1000"}, 400, "seizure.currency"),
        (
            {"commodity": "currency", "currency": "USD", "amount": "9", "unit": "kg"},
            400,
            "seizure.unit",
        ),
        (
            {"commodity": "currency", "unit": "units", "currency": "ABC", "amount": "1"},
            400,
            "seizure.currency",
        ),
        ({"destination": "QQQ"}, 400, "seizure.destination"),
        ({"seized_at": (timezone.now() + timedelta(days=2)).isoformat()}, 400, "seizure.seized_at"),
        (
            {"persons_arrested": 0, "arrested_nationalities": ["NG"]},
            400,
            "seizure.arrested_nationalities",
        ),
    ],
)
def test_bad_seizure_is_refused_naming_the_field_and_nothing_is_stored(
    api, cocair, ocu, officer, change, status, field
):
    response = api(officer, "post", "/operations/cocair/messages", seizure_payload(**change))
    assert response.status_code == status, response.json()
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Message.objects.exists() and not Seizure.objects.exists()


# --- acknowledgement and follow-up ------------------------------------------------------------


def test_acknowledge_through_the_api_notifies_the_ocu(
    api, cocair, ocu, officer, colleague, django_capture_on_commit_callbacks
):
    alert = send_alert(ocu, cocair, officers=True)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(ocu.user_id), channel)

    with django_capture_on_commit_callbacks(execute=True):
        response = api(officer, "post", f"/messages/{alert.pk}/ack")
    assert response.status_code == 200
    first = response.json()["acknowledged_at"]
    assert api(officer, "post", f"/messages/{alert.pk}/ack").json()["acknowledged_at"] == first

    event = async_to_sync(asyncio.wait_for)(layer.receive(channel), 5)
    assert event["type"] == "delivery.acknowledged"
    assert (event["message_id"], event["recipient"]) == (alert.pk, "officer")
    assert event["acknowledged_at"] is not None


def test_only_recipients_acknowledge_only_alerts(api, cocair, ocu, officer, outsider):
    alert = send_alert(ocu, cocair, officers=True)
    assert api(ocu, "post", f"/messages/{alert.pk}/ack").status_code == 400  # the sender
    assert api(outsider, "post", f"/messages/{alert.pk}/ack").status_code == 404
    plain = message_send(
        sender=ocu.user, operation=cocair, subject="s", body="b", targets=Targets(officers=True)
    )
    response = api(officer, "post", f"/messages/{plain.pk}/ack")
    assert response.status_code == 400 and response.json()["code"] == "not_an_alert"


def test_acknowledgement_deadlines_follow_priority_and_operation(cocair, ocu, officer):
    urgent = send_alert(ocu, cocair, priority="urgent", officers=True)
    normal = send_alert(ocu, cocair, officers=True)
    assert ack_due_at(urgent) == urgent.created_at + timedelta(minutes=15)
    assert ack_due_at(normal) == normal.created_at + timedelta(minutes=120)
    cocair.ack_minutes_urgent = 5
    cocair.save()
    urgent.refresh_from_db()
    assert ack_due_at(urgent) == urgent.created_at + timedelta(minutes=5)


def test_overdue_is_waiting_past_the_deadline_or_acknowledged_late(cocair, ocu, officer):
    alert = send_alert(ocu, cocair, priority="urgent", officers=True)
    delivery = Delivery.objects.get(message=alert)
    due = ack_due_at(alert)
    assert not delivery_is_overdue(delivery, due, now=due - timedelta(minutes=1))
    assert delivery_is_overdue(delivery, due, now=due + timedelta(seconds=1))
    delivery.acknowledged_at = due - timedelta(minutes=1)
    assert not delivery_is_overdue(delivery, due, now=due + timedelta(hours=1))
    delivery.acknowledged_at = due + timedelta(minutes=1)
    assert delivery_is_overdue(delivery, due, now=due + timedelta(hours=1))


def test_followup_board_counts_and_roles(api, cocair, ocu, officer, colleague, outsider):
    alert = send_alert(ocu, cocair, priority="urgent", officers=True)
    delivery_acknowledge(user=officer.user, message=alert)
    later = timezone.now() + timedelta(minutes=16)
    board = followup_board(user=ocu.user, membership=ocu, now=later)
    assert [(i.alert, i.acknowledged, i.overdue) for i in board] == [(alert, 1, 1)]
    overdue = {d.recipient.username: d.overdue for d in board[0].deliveries}
    assert overdue == {"officer": False, "colleague": True}

    assert api(ocu, "get", "/operations/cocair/follow-up").json()[0]["acknowledged"] == 1
    assert api(officer, "get", "/operations/cocair/follow-up").status_code == 403
    assert api(outsider, "get", "/operations/cocair/follow-up").status_code == 404


# --- handling codes and forwarding -----------------------------------------------------------


def test_h2_forwarding_is_refused_unless_the_forwarder_is_the_sender(
    cocair, ocu, officer, colleague
):
    secret = message_send(
        sender=ocu.user,
        operation=cocair,
        subject="Source report",
        body="b",
        handling_code="H2",
        targets=Targets(users=("officer",)),
    )
    with pytest.raises(DomainError) as error:
        message_forward(
            forwarder=officer.user, message=secret, targets=Targets(users=("colleague",))
        )
    assert error.value.code == "h2_forward_refused"
    assert not Message.objects.filter(forwarded_from=secret).exists()
    forward = message_forward(
        forwarder=ocu.user, message=secret, targets=Targets(users=("colleague",))
    )
    assert forward.forwarded_from == secret and forward.handling_code == "H2"


def test_forward_through_the_api_keeps_the_handling_code(api, cocair, ocu, officer, colleague):
    original = message_send(
        sender=ocu.user,
        operation=cocair,
        subject="Briefing",
        body="b",
        handling_code="H1",
        targets=Targets(users=("officer",)),
    )
    response = api(
        officer,
        "post",
        f"/messages/{original.pk}/forward",
        {"to": {"users": ["colleague"]}, "note": "FYI"},
    )
    assert response.status_code == 201
    forward = Message.objects.get(pk=response.json()["id"])
    assert (forward.forwarded_from, forward.handling_code) == (original, "H1")
    data = api(colleague, "get", f"/messages/{forward.pk}").json()
    assert data["forwarded_from"] == original.pk and data["body"] == "FYI"


def test_openapi_describes_each_kind(client):
    schema = client.get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    for name in ("AlertMessageIn", "ResponseMessageIn", "SeizureMessageIn", "FreeTextMessageIn"):
        assert name in components
    assert "flight_number" in components["AlertIn"]["properties"]
    assert set(components["SeizureIn"]["properties"]["commodity"].get("enum", [])) or (
        "Commodity" in components
    )
    body = schema["paths"]["/api/v1/operations/{slug}/messages"]["post"]["requestBody"]
    assert "discriminator" in str(body) or "oneOf" in str(body) or "MessageIn" in str(body)
