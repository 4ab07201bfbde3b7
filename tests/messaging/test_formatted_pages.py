"""The web pages of formatted messages: Alert, Response and Seizure forms, the alert's thread,
acknowledgement, forwarding, the OCU's follow-up board and the inbox badges."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from messaging.models import Delivery, Message
from messaging.routing import Targets
from messaging.services import message_send
from seizures.models import Seizure
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def brazil(cocair):
    return member(cocair, Role.OFFICER, "BR", "GRU", username="brazil", full_name="Juliana")


def url(name, *args, slug="cocair"):
    return reverse(f"messaging:{name}", args=[slug, *args])


def alert_form(**overrides):
    """What the New alert page posts for one passenger (the management form included)."""
    data = {
        "flight_number": "at 525",
        "airline": "Royal Air Maroc",
        "flight_date": timezone.localdate().isoformat(),
        "departure_airport": "GRU",
        "transit_airports": ["CMN", ""],
        "destination_airport": "DSS",
        "subjects-TOTAL_FORMS": "1",
        "subjects-INITIAL_FORMS": "0",
        "subjects-MIN_NUM_FORMS": "0",
        "subjects-MAX_NUM_FORMS": "20",
        "subjects-0-name": "John Doe",
        "subjects-0-date_of_birth": "1980-01-02",
        "subjects-0-nationality": "BR",
        "subjects-0-document_type": "passport",
        "subjects-0-document_number": "FX 123-456",
        "subjects-0-pnr": "abc123",
        "subjects-0-seat": "12a",
        "suspected_commodity": "cocaine",
        "risk_indicators": ["cash_ticket", "last_minute"],
        "requested_action": "Control baggage on arrival.",
        "priority": "urgent",
        "handling_code": "H1",
        "body": "Booked last minute.",
        "ocus": "on",
    }
    data.update(overrides)
    return data


def seizure_form(**overrides):
    data = {
        "seized_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "airport": "DSS",
        "commodity": "cocaine",
        "quantity": "2.500",
        "unit": "kg",
        "concealment": "checked_baggage",
        "detection": "profiling",
        "flight_number": "AT525",
        "departure": "GRU",
        "transit": ["CMN"],
        "destination": "SN",
        "persons_arrested": "1",
        "arrested_nationalities": ["BR"],
        "companies_incriminated": "0",
        "handling_code": "H0",
        "body": "False bottom.",
    }
    data.update(overrides)
    return data


def send_alert(sender, operation, *, to, priority="normal", handling_code="H0", **kwargs):
    from messaging.formatted import AlertInput, SubjectInput

    return message_send(
        sender=sender.user,
        operation=operation,
        kind="alert",
        targets=Targets(users=tuple(m.user.username for m in to)),
        priority=priority,
        handling_code=handling_code,
        details=AlertInput(
            flight_number="ET908",
            flight_date=timezone.localdate(),
            departure_airport="GRU",
            destination_airport="DSS",
            transit_airports=("ADD",),
            subjects=(SubjectInput(name="Jane Roe", nationality="NG"),),
        ),
        **kwargs,
    )


def respond(user, operation, alert, outcome="negative"):
    from messaging.formatted import ResponseInput

    return message_send(
        sender=user.user,
        operation=operation,
        kind="response",
        details=ResponseInput(outcome=outcome, action_taken="Bag searched."),
        alert_id=alert.pk,
    )


# --- Alert ----------------------------------------------------------------------------------


def test_officer_sends_an_alert_and_its_page_shows_every_detail_by_name(
    client, cocair, ocu, officer
):
    client.force_login(officer.user)
    assert client.get(url("alert_new")).status_code == 200

    response = client.post(url("alert_new"), alert_form())

    alert = Message.objects.get()
    assert response.status_code == 302
    assert response.url == url("detail", alert.pk)
    assert alert.kind == "alert" and alert.priority == "urgent" and alert.handling_code == "H1"
    details = alert.alert_details
    assert details.flight_number == "AT525"
    assert details.transit_airports == ["CMN"]
    assert details.risk_indicators == ["cash_ticket", "last_minute"]
    subject = alert.alert_subjects.get()
    assert (subject.name, subject.document_number, subject.seat) == ("John Doe", "FX123456", "12A")
    assert [d.recipient.username for d in alert.deliveries.all()] == ["ocu"]

    client.force_login(ocu.user)
    html = client.get(url("detail", alert.pk)).content.decode()
    for shown in (
        "GRU – São Paulo",
        "CMN – Casablanca",
        "DSS – Dakar",
        "John Doe",
        "Brazil",  # the nationality by name
        "Passport",
        "Ticket paid in cash",
        "Last-minute booking",
        "Cocaine",
        "Urgent",
        "H1 – not for use in court without the sender&#x27;s consent",
        "Control baggage on arrival.",
    ):
        assert shown in html, shown
    assert "cash_ticket" not in html


def test_several_passengers_and_an_empty_passenger_form_is_left_out(client, cocair, ocu, officer):
    client.force_login(officer.user)
    data = alert_form(
        **{
            "subjects-TOTAL_FORMS": "3",
            "subjects-1-name": "",
            "subjects-2-name": "Mary Major",
            "subjects-2-nationality": "NG",
        }
    )
    assert client.post(url("alert_new"), data).status_code == 302
    assert [s.name for s in Message.objects.get().alert_subjects.all()] == [
        "John Doe",
        "Mary Major",
    ]


def test_a_shipment_alone_is_enough(client, cocair, ocu, officer):
    client.force_login(officer.user)
    data = alert_form(
        **{"subjects-0-name": "", "subjects-0-date_of_birth": "", "subjects-0-nationality": ""},
        **{"subjects-0-document_type": "", "subjects-0-document_number": ""},
        **{"subjects-0-pnr": "", "subjects-0-seat": ""},
        air_waybill="057-1234 5675",
        consignee="ACME Import",
    )
    assert client.post(url("alert_new"), data).status_code == 302
    assert Message.objects.get().alert_details.air_waybill == "05712345675"


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"departure_airport": "XXX"}, "departure_airport", "Unknown IATA airport code: XXX."),
        ({"destination_airport": "ZZZ"}, "destination_airport", "Unknown IATA airport code"),
        ({"transit_airports": ["CMN", "QQQ"]}, "transit_airports", "QQQ"),
        ({"flight_number": "HELLO"}, "flight_number", "Not a flight number"),
        ({"handling_code": "H3"}, "handling_note", "Describe the restriction"),
        ({"handling_code": "H9"}, "handling_code", "Select a valid choice"),
        ({"suspected_commodity": "gold"}, "suspected_commodity", "Select a valid choice"),
    ],
)
def test_bad_alert_input_is_a_field_error_and_nothing_is_stored(
    client, cocair, ocu, officer, overrides, field, text
):
    client.force_login(officer.user)
    response = client.post(url("alert_new"), alert_form(**overrides))

    assert response.status_code == 400
    form = response.context["form"]
    assert text in " ".join(form.errors[field])
    assert Message.objects.count() == 0
    # The officer's input is kept.
    assert form["airline"].value() == "Royal Air Maroc"
    assert form.subjects.forms[0]["name"].value() == "John Doe"
    assert "is-invalid" in response.content.decode()


def test_flight_date_more_than_a_year_ahead_is_a_field_error(client, cocair, ocu, officer):
    client.force_login(officer.user)
    far = (timezone.localdate() + timedelta(days=400)).isoformat()
    response = client.post(url("alert_new"), alert_form(flight_date=far))
    assert response.status_code == 400
    assert response.context["form"].errors["flight_date"] == [
        "The flight date is more than a year ahead."
    ]
    assert Message.objects.count() == 0


def test_a_passengers_error_goes_on_that_passengers_form(client, cocair, ocu, officer):
    client.force_login(officer.user)
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    data = alert_form(
        **{
            "subjects-TOTAL_FORMS": "3",
            "subjects-2-name": "Mary Major",
            "subjects-2-date_of_birth": future,
        }
    )
    response = client.post(url("alert_new"), data)
    assert response.status_code == 400
    forms = response.context["form"].subjects.forms
    assert forms[2].errors["date_of_birth"] == ["A date of birth cannot be in the future."]
    assert not forms[0].errors
    assert Message.objects.count() == 0


def test_an_alert_with_neither_passenger_nor_shipment_says_so(client, cocair, ocu, officer):
    client.force_login(officer.user)
    data = alert_form(**{"subjects-0-name": "", "subjects-0-date_of_birth": ""})
    data.update({k: "" for k in data if k.startswith("subjects-0-")})
    response = client.post(url("alert_new"), data)
    assert response.status_code == 400
    assert "Describe at least one passenger" in response.context["form"].subject_errors[0]
    assert 'id="subject-errors"' in response.content.decode()
    assert Message.objects.count() == 0


def test_an_alert_without_recipient_is_refused(client, cocair, ocu, officer):
    client.force_login(officer.user)
    response = client.post(url("alert_new"), alert_form(ocus=""))
    assert response.status_code == 400
    assert "Choose at least one recipient." in response.content.decode()
    assert Message.objects.count() == 0


# --- Response -------------------------------------------------------------------------------


def test_recipient_responds_and_it_goes_to_the_alert_sender_and_the_ocus(
    client, cocair, ocu, officer, colleague
):
    other_ocu = member(cocair, Role.OCU, "FR", "CDG", username="ocu2")
    alert = send_alert(colleague, cocair, to=[officer])
    client.force_login(officer.user)
    page = client.get(url("respond", alert.pk)).content.decode()
    assert "goes to the alert&#x27;s sender and to the OCUs" in page

    response = client.post(
        url("respond", alert.pk),
        {"outcome": "positive", "action_taken": "2 kg found.", "handling_code": "H0"},
    )

    reply = Message.objects.get(kind="response")
    assert response.status_code == 302
    assert reply.alert_id == alert.pk
    assert reply.response_details.outcome == "positive"
    assert sorted(d.recipient.username for d in reply.deliveries.all()) == sorted(
        ["colleague", "ocu", other_ocu.user.username]
    )
    assert Delivery.objects.get(message=alert, recipient=officer.user).answered_at is not None
    html = client.get(url("detail", reply.pk)).content.decode()
    assert "Controlled – positive" in html
    assert url("detail", alert.pk) in html  # the link back to its alert


def test_not_controlled_needs_a_reason(client, cocair, ocu, officer, colleague):
    alert = send_alert(colleague, cocair, to=[officer])
    client.force_login(officer.user)
    response = client.post(url("respond", alert.pk), {"outcome": "not_controlled"})
    assert response.status_code == 400
    assert "not_controlled_reason" in response.context["form"].errors
    assert Message.objects.filter(kind="response").count() == 0


def test_an_unknown_outcome_is_a_field_error(client, cocair, ocu, officer, colleague):
    alert = send_alert(colleague, cocair, to=[officer])
    client.force_login(officer.user)
    response = client.post(url("respond", alert.pk), {"outcome": "maybe"})
    assert response.status_code == 400
    assert "outcome" in response.context["form"].errors
    assert Message.objects.filter(kind="response").count() == 0


def test_responding_to_a_message_that_is_no_alert_is_404(client, cocair, ocu, officer):
    plain = message_send(
        sender=ocu.user, operation=cocair, subject="s", body="b", targets=Targets(officers=True)
    )
    client.force_login(officer.user)
    assert client.get(url("respond", plain.pk)).status_code == 404
    assert client.post(url("respond", plain.pk), {"outcome": "negative"}).status_code == 404
    assert client.post(url("respond", 999_999), {"outcome": "negative"}).status_code == 404
    assert Message.objects.filter(kind="response").count() == 0


def test_responding_to_another_operations_alert_is_404(client, cocair, ocu, officer, outsider):
    elsewhere = outsider.operation
    their_officer = member(elsewhere, Role.OFFICER, "SN", "DSS", username="their")
    foreign_alert = send_alert(outsider, elsewhere, to=[their_officer])
    client.force_login(officer.user)
    data = {"outcome": "negative"}
    assert client.post(url("respond", foreign_alert.pk), data).status_code == 404
    assert client.post(url("respond", foreign_alert.pk, slug="elsewhere"), data).status_code == 404
    assert Message.objects.filter(kind="response").count() == 0


# --- Seizure --------------------------------------------------------------------------------


def test_officer_reports_a_seizure_it_goes_to_the_ocus_and_is_recorded(
    client, cocair, ocu, officer, colleague
):
    client.force_login(officer.user)
    assert client.get(url("seizure_new")).status_code == 200
    response = client.post(url("seizure_new"), seizure_form())

    message = Message.objects.get()
    assert response.status_code == 302
    assert message.kind == "seizure"
    assert [d.recipient.username for d in message.deliveries.all()] == ["ocu"]
    seizure = Seizure.objects.get()
    assert seizure.message == message and seizure.alert is None
    assert (seizure.airport, seizure.commodity, str(seizure.quantity)) == (
        "DSS",
        "cocaine",
        "2.500",
    )
    assert seizure.transit == ["CMN"] and seizure.destination == "SN"

    html = client.get(url("detail", message.pk)).content.decode()
    for shown in (
        "Cocaine",
        "2.5 kilograms",
        "Checked baggage",
        "Profiling / targeting",
        "GRU – São Paulo",
        "Senegal",  # the destination given as a country code, and the country of the airport
        "Brazil",  # the nationality of the person arrested
    ):
        assert shown in html, shown


def test_a_seizure_from_an_alert_joins_its_thread(client, cocair, ocu, officer, colleague):
    alert = send_alert(colleague, cocair, to=[officer])
    client.force_login(officer.user)
    detail = client.get(url("detail", alert.pk)).content.decode()
    seizure_url = f"{url('seizure_new')}?alert={alert.pk}"
    assert seizure_url in detail

    page = client.get(seizure_url).content.decode()
    assert f'action="{seizure_url}"' in page
    response = client.post(seizure_url, seizure_form())

    assert response.status_code == 302
    message = Message.objects.get(kind="seizure")
    assert message.alert_id == alert.pk and message.seizure.alert_id == alert.pk
    assert {d.recipient.username for d in message.deliveries.all()} == {"ocu", "colleague"}


def test_a_seizure_about_an_alert_i_cannot_see_is_404(client, cocair, ocu, officer, colleague):
    alert = send_alert(ocu, cocair, to=[colleague])
    client.force_login(officer.user)
    assert client.get(f"{url('seizure_new')}?alert={alert.pk}").status_code == 404
    assert client.post(f"{url('seizure_new')}?alert={alert.pk}", seizure_form()).status_code == 404
    assert client.get(f"{url('seizure_new')}?alert=x").status_code == 404
    assert Seizure.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"quantity": "0"}, "quantity", "greater than zero"),
        ({"quantity": "-3"}, "quantity", "greater than zero"),
        ({"commodity": "unicorn"}, "commodity", "Select a valid choice"),
        ({"commodity": "currency", "unit": "units", "amount": "25000"}, "currency", "ISO 4217"),
        (
            {"commodity": "currency", "unit": "units", "currency": "ABC", "amount": "1"},
            "currency",
            "ABC",
        ),
        ({"commodity": "currency", "currency": "USD", "amount": "9"}, "unit", "units or pieces"),
        ({"airport": "XXX"}, "airport", "Unknown IATA airport code: XXX."),
        ({"transit": ["CMN", "QQQQ"]}, "transit", "QQQQ"),
        ({"arrested_nationalities": ["BR", "NG"]}, "arrested_nationalities", "More nationalities"),
    ],
)
def test_bad_seizure_input_is_a_field_error_and_nothing_is_stored(
    client, cocair, ocu, officer, overrides, field, text
):
    client.force_login(officer.user)
    response = client.post(url("seizure_new"), seizure_form(**overrides))
    assert response.status_code == 400
    form = response.context["form"]
    assert text in " ".join(form.errors[field])
    assert form["flight_number"].value() == "AT525"  # the input is kept
    assert Message.objects.count() == 0
    assert Seizure.objects.count() == 0


def test_a_currency_seizure_shows_amount_and_usd_value(client, cocair, ocu, officer):
    client.force_login(officer.user)
    data = seizure_form(
        commodity="currency", currency="eur", amount="125000", usd_value="135000", unit="units"
    )
    response = client.post(url("seizure_new"), data)
    assert response.status_code == 302
    client.force_login(ocu.user)
    html = client.get(response.url).content.decode()
    assert "125,000" in html and "EUR" in html and "135,000 US dollars" in html


# --- acknowledge, thread, forward -----------------------------------------------------------


def test_recipient_acknowledges_an_alert_with_the_button(client, cocair, ocu, officer):
    alert = send_alert(ocu, cocair, to=[officer], priority="urgent")
    client.force_login(officer.user)
    html = client.get(url("detail", alert.pk)).content.decode()
    assert url("acknowledge", alert.pk) in html
    assert "Acknowledged at" not in html

    response = client.post(url("acknowledge", alert.pk))

    assert response.status_code == 302 and response.url == url("detail", alert.pk)
    assert Delivery.objects.get(message=alert).acknowledged_at is not None
    html = client.get(url("detail", alert.pk)).content.decode()
    assert "Acknowledged at" in html
    assert url("acknowledge", alert.pk) not in html


def test_acknowledge_is_post_only_and_only_for_recipients(client, cocair, ocu, officer, colleague):
    alert = send_alert(ocu, cocair, to=[officer])
    client.force_login(officer.user)
    assert client.get(url("acknowledge", alert.pk)).status_code == 405
    client.force_login(ocu.user)  # the sender sees no button, and cannot acknowledge
    assert url("acknowledge", alert.pk) not in client.get(url("detail", alert.pk)).content.decode()
    response = client.post(url("acknowledge", alert.pk), follow=True)
    assert "Only a recipient acknowledges an alert." in response.content.decode()
    client.force_login(colleague.user)  # not a recipient: the alert does not exist
    assert client.post(url("acknowledge", alert.pk)).status_code == 404
    assert Delivery.objects.get(message=alert).acknowledged_at is None


def test_the_alert_shows_its_thread_in_order_with_a_summary_line(
    client, cocair, ocu, officer, colleague, brazil
):
    alert = send_alert(ocu, cocair, to=[officer, colleague, brazil])
    first = respond(officer, cocair, alert, outcome="positive")
    second = respond(colleague, cocair, alert, outcome="negative")
    client.force_login(brazil.user)
    client.post(f"{url('seizure_new')}?alert={alert.pk}", seizure_form(airport="GRU"))
    seizure = Message.objects.get(kind="seizure")

    client.force_login(ocu.user)
    html = client.get(url("detail", alert.pk)).content.decode()
    assert "2 responses, 1 positive, 1 seizure" in html
    positions = [html.index(url("detail", m.pk) + '"') for m in (first, second, seizure)]
    assert positions == sorted(positions)
    assert "Controlled – positive" in html and "Controlled – negative" in html

    # An officer sees only the replies addressed to him (his own).
    client.force_login(colleague.user)
    html = client.get(url("detail", alert.pk)).content.decode()
    assert "1 response, 0 positive, 0 seizures" in html


def test_officer_forwards_an_alert_and_the_recipient_sees_the_original(
    client, cocair, ocu, officer, colleague
):
    alert = send_alert(ocu, cocair, to=[officer])
    client.force_login(officer.user)
    assert client.get(url("forward", alert.pk)).status_code == 200
    response = client.post(url("forward", alert.pk), {"users": ["colleague"], "note": "FYI"})

    forward = Message.objects.get(forwarded_from=alert)
    assert response.status_code == 302 and response.url == url("detail", forward.pk)
    client.force_login(colleague.user)
    html = client.get(url("detail", forward.pk)).content.decode()
    assert "FYI" in html
    assert "ET908" in html and "Jane Roe" in html  # the original's content
    assert "ADD – Addis Ababa" in html


def test_forwarding_an_h2_message_is_refused_with_a_clear_error(
    client, cocair, ocu, officer, colleague
):
    alert = send_alert(ocu, cocair, to=[officer], handling_code="H2")
    client.force_login(officer.user)
    response = client.post(url("forward", alert.pk), {"users": ["colleague"], "note": "FYI"})
    assert response.status_code == 400
    assert "only the sender may share this message further" in response.content.decode()
    assert response.context["form"]["note"].value() == "FYI"
    assert Message.objects.filter(forwarded_from=alert).count() == 0

    # The sender himself may.
    client.force_login(ocu.user)
    response = client.post(url("forward", alert.pk), {"users": ["colleague"]})
    assert response.status_code == 302


def test_forward_without_recipient_is_a_form_error(client, cocair, ocu, officer):
    alert = send_alert(ocu, cocair, to=[officer])
    client.force_login(officer.user)
    response = client.post(url("forward", alert.pk), {"note": "x"})
    assert response.status_code == 400
    assert "Choose at least one recipient." in response.content.decode()


# --- follow-up board ------------------------------------------------------------------------


def test_followup_board_is_for_ocus_only(client, cocair, ocu, officer, outsider):
    client.force_login(officer.user)
    assert client.get(url("followup")).status_code == 403
    assert url("followup") not in client.get(url("inbox")).content.decode()
    client.force_login(outsider.user)
    assert client.get(url("followup")).status_code == 404
    client.force_login(ocu.user)
    assert client.get(url("followup")).status_code == 200
    assert url("followup") in client.get(url("inbox")).content.decode()  # in the nav


def test_followup_board_shows_each_recipient_and_what_is_overdue(
    client, cocair, ocu, officer, colleague
):
    alert = send_alert(ocu, cocair, to=[officer, colleague], priority="urgent")
    Message.objects.filter(pk=alert.pk).update(created_at=timezone.now() - timedelta(hours=1))
    client.force_login(officer.user)
    client.post(url("acknowledge", alert.pk))
    # the officer acknowledged late (after the 15 minutes), the colleague not at all
    fresh = send_alert(ocu, cocair, to=[officer])

    client.force_login(ocu.user)
    response = client.get(url("followup"))
    html = response.content.decode()
    board = {row.alert.pk: row for row in response.context["board"]}
    assert board[alert.pk].overdue == 2 and board[fresh.pk].overdue == 0
    assert 'class="card followup-alert mb-3 overdue"' in html
    assert f'data-alert-id="{fresh.pk}"' in html
    for who in ("officer", "colleague"):
        assert (
            f'class="followup-row overdue" data-followup-row data-message-id="{alert.pk}" '
            f'data-recipient="{who}"'
        ) in html
    assert (
        f'class="followup-row" data-followup-row data-message-id="{fresh.pk}" '
        'data-recipient="officer"'
    ) in html
    assert "Overdue" in html


# --- inbox and compose ----------------------------------------------------------------------


def test_urgent_alert_stands_out_in_the_inbox_until_acknowledged(client, cocair, ocu, officer):
    alert = send_alert(ocu, cocair, to=[officer], priority="urgent")
    client.force_login(officer.user)
    html = client.get(url("inbox")).content.decode()
    assert "urgent-pending" in html and "Urgent: not acknowledged yet" in html
    assert 'badge-kind badge-kind-alert">Alert<' in html

    client.post(url("acknowledge", alert.pk))
    html = client.get(url("inbox")).content.decode()
    assert "urgent-pending" not in html
    assert 'badge-kind badge-kind-alert">Alert<' in html


def test_plain_message_carries_a_handling_code(client, cocair, ocu, officer):
    client.force_login(officer.user)
    response = client.post(
        url("compose"),
        {"subject": "s", "body": "b", "ocus": "on", "handling_code": "H3", "handling_note": "x"},
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.handling_code, message.handling_note) == ("H3", "x")
    client.force_login(ocu.user)
    assert "H3 – other restriction (see note)" in client.get(response.url).content.decode()


@pytest.mark.parametrize("page", ["alert_new", "seizure_new", "respond", "forward"])
def test_an_empty_or_forged_post_is_a_form_error_never_a_500(client, cocair, ocu, officer, page):
    alert = send_alert(ocu, cocair, to=[officer])
    client.force_login(officer.user)
    target = url(page, alert.pk) if page in ("respond", "forward") else url(page)
    before = Message.objects.count()
    for data in ({}, {"subjects-TOTAL_FORMS": "x", "transit_airports": ["GRU"] * 50}):
        response = client.post(target, data)
        assert response.status_code == 400, data
    assert Message.objects.count() == before
