"""The messages database: blind-index search, scoped to what the user may read."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from accounts.services import api_token_create
from aircop.exceptions import DomainError
from messaging.formatted import AlertInput, SeizureInput, SubjectInput
from messaging.models import Message, SearchToken
from messaging.routing import Targets
from messaging.selectors import cross_references, message_with_details, search_messages
from messaging.services import delivery_acknowledge, message_send
from tests.factories import member

pytestmark = pytest.mark.django_db

CANARY_DOCUMENT = "ZQ 98-76 5432"
CANARY_NAME = "Joséphine Canaryfield"
CANARY_PNR = "QX7CAN"
CANARY_WORD = "Xylocanary"


def send_text(sender, operation, *, to, subject="Routine", body="Nothing to report.", **kw):
    return message_send(
        sender=sender.user,
        operation=operation,
        subject=subject,
        body=body,
        targets=Targets(users=tuple(m.user.username for m in to)),
        **kw,
    )


def send_alert(sender, operation, *, to, document="AB 12-34 567", flight="ET 908", **kw):
    return message_send(
        sender=sender.user,
        operation=operation,
        kind="alert",
        body="Passenger nervous at check-in.",
        targets=Targets(users=tuple(m.user.username for m in to)),
        details=AlertInput(
            flight_number=flight,
            flight_date=timezone.localdate(),
            departure_airport="GRU",
            destination_airport="DSS",
            transit_airports=("ADD",),
            subjects=(
                SubjectInput(
                    name="José Da Silva",
                    nationality="BR",
                    document_type="passport",
                    document_number=document,
                    pnr="xk7q9z",
                ),
            ),
        ),
        **kw,
    )


def found(membership, **filters):
    return list(
        search_messages(user=membership.user, membership=membership, **filters).values_list(
            "id", flat=True
        )
    )


def test_keyword_search_ignores_case_and_accents(ocu, officer, cocair):
    # Given a message with accented words
    message = send_text(
        ocu, cocair, to=[officer], subject="Valise suspecte", body="Contrôlé à São Paulo."
    )
    send_text(ocu, cocair, to=[officer], subject="Other", body="Unrelated.")
    # Then every word of the query must match, whatever its case and accents
    assert found(officer, q="SAO paulo") == [message.id]
    assert found(officer, q="controle valise") == [message.id]
    assert found(officer, q="valise absentword") == []


def test_identifier_search_normalises_documents_flights_pnrs_and_names(ocu, officer, cocair):
    alert = send_alert(ocu, cocair, to=[officer])
    send_alert(ocu, cocair, to=[officer], document="CD999", flight="AF 718")
    assert found(officer, document="ab1234567") == [alert.id]
    assert found(officer, document="AB-12 34-567") == [alert.id]
    assert found(officer, flight="et908") == [alert.id]
    assert alert.id in found(officer, pnr="XK7Q9Z")  # both alerts carry this PNR
    assert alert.id in found(officer, name="jose da silva")
    assert alert.id in found(officer, name="SILVA")
    assert found(officer, name="Silva Jose") == []


def test_seizure_flight_is_indexed(ocu, officer, cocair):
    seizure = message_send(
        sender=officer.user,
        operation=cocair,
        kind="seizure",
        details=SeizureInput(
            seized_at=timezone.now() - timedelta(hours=1),
            airport="DSS",
            commodity="cocaine",
            quantity=Decimal("2.5"),
            unit="kg",
            concealment="checked_baggage",
            detection="dog",
            flight_number="TP 1487",
        ),
    )
    assert found(officer, flight="TP1487") == [seizure.id]


def test_search_never_shows_another_operation_or_a_message_not_addressed_to_me(
    ocu, officer, colleague, outsider, cocair
):
    mine = send_text(ocu, cocair, to=[officer], subject=f"{CANARY_WORD} one")
    send_text(ocu, cocair, to=[colleague], subject=f"{CANARY_WORD} two")  # not to me
    elsewhere = outsider.operation
    other = member(elsewhere, Role.OFFICER, username="other")
    send_text(outsider, elsewhere, to=[other], subject=f"{CANARY_WORD} three")
    assert found(officer, q=CANARY_WORD) == [mine.id]
    assert len(found(ocu, q=CANARY_WORD)) == 2  # the sender sees both of its messages
    assert found(outsider, q=CANARY_WORD) != []
    assert not set(found(outsider, q=CANARY_WORD)) & set(found(ocu, q=CANARY_WORD))
    # a membership that is not the user's gives nothing
    assert list(search_messages(user=colleague.user, membership=officer, q=CANARY_WORD)) == []


def test_search_tokens_hold_no_plaintext(ocu, officer, cocair):
    message_send(
        sender=ocu.user,
        operation=cocair,
        kind="alert",
        subject=f"{CANARY_WORD} alert",
        targets=Targets(users=("officer",)),
        details=AlertInput(
            flight_number="QF 1",
            flight_date=timezone.localdate(),
            departure_airport="GRU",
            destination_airport="DSS",
            subjects=(
                SubjectInput(name=CANARY_NAME, document_number=CANARY_DOCUMENT, pnr=CANARY_PNR),
            ),
        ),
    )
    assert SearchToken.objects.count() > 4
    with connection.cursor() as cursor:
        cursor.execute("SELECT field, digest FROM messaging_searchtoken")
        rows = cursor.fetchall()
    dump = repr(rows).casefold()
    for canary in (
        CANARY_WORD,
        "canaryfield",
        "josephine",
        "ZQ98765432",
        "9876",
        CANARY_PNR,
        "QF1",
    ):
        assert canary.casefold() not in dump
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for _field, digest in rows)


def test_filters(ocu, officer, cocair):
    urgent = send_alert(ocu, cocair, to=[officer], priority="urgent", handling_code="H2")
    text = send_text(ocu, cocair, to=[officer])
    assert found(officer, kind="alert") == [urgent.id]
    assert found(officer, priority="urgent") == [urgent.id]
    assert found(officer, handling_code="H2") == [urgent.id]
    assert found(officer, sender="ocu") == [text.id, urgent.id]
    assert found(officer, sender_country="be") == [text.id, urgent.id]
    assert found(officer, airport="gru") == [urgent.id]
    today = timezone.localdate()
    assert found(officer, date_from=today, date_to=today) == [text.id, urgent.id]
    assert found(officer, date_from=today + timedelta(days=1)) == []
    assert found(officer, ack_state="pending") == [urgent.id]
    delivery_acknowledge(user=officer.user, message=urgent)
    assert found(officer, ack_state="acknowledged") == [urgent.id]
    assert found(officer, ack_state="pending") == []
    assert found(officer, after=text.id) == [urgent.id]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"kind": "letter"}, "kind"),
        ({"priority": "asap"}, "priority"),
        ({"handling_code": "H9"}, "handling_code"),
        ({"ack_state": "maybe"}, "ack"),
        ({"q": "a"}, "q"),
        ({"document": " - "}, "document"),
    ],
)
def test_bad_filters_name_the_field(officer, filters, field):
    with pytest.raises(DomainError) as error:
        found(officer, **filters)
    assert error.value.field == field


@pytest.fixture
def api(client):
    def call(membership, path):
        _token, secret = api_token_create(user=membership.user, name="t")
        return client.get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {secret}")

    return call


def test_api_search_pages_and_refuses_bad_values(api, ocu, officer, outsider, cocair):
    ids = [send_text(ocu, cocair, to=[officer], subject=f"Cargo {i}").id for i in range(3)]
    response = api(officer, "/operations/cocair/messages/search?q=cargo&limit=2")
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == ids[:0:-1]
    assert body["next_after"] == ids[1]
    rest = api(officer, f"/operations/cocair/messages/search?q=cargo&after={ids[1]}").json()
    assert [item["id"] for item in rest["items"]] == [ids[0]]
    assert rest["next_after"] is None

    bad = api(officer, "/operations/cocair/messages/search?kind=letter")
    assert bad.status_code == 400 and bad.json()["field"] == "kind"
    bad_date = api(officer, "/operations/cocair/messages/search?from=yesterday")
    assert bad_date.status_code == 422
    assert bad_date.json()["errors"][0]["field"] == "from"
    assert api(outsider, "/operations/cocair/messages/search?q=cargo").status_code == 404


def test_search_page(client, ocu, officer, outsider, cocair):
    message = send_text(ocu, cocair, to=[officer], subject="Valise suspecte")
    client.force_login(officer.user)
    html = client.get("/o/cocair/search/", {"q": "valise"}).content.decode()
    assert f"/o/cocair/messages/{message.id}/" in html
    assert 'href="/o/cocair/search/"' in html  # the nav item
    assert client.get("/o/cocair/search/", {"kind": "letter"}).status_code == 400
    client.force_login(outsider.user)
    assert client.get("/o/cocair/search/", {"q": "valise"}).status_code == 404


def test_cross_reference_counts_earlier_visible_messages(client, ocu, officer, colleague, cocair):
    first = send_alert(ocu, cocair, to=[officer], document="AB1234567", flight="KL 123")
    send_alert(ocu, cocair, to=[colleague], document="AB1234567")  # not visible to officer
    later = send_alert(ocu, cocair, to=[officer], document="ab-1234 567", flight="KL123")
    refs = cross_references(
        user=officer.user, membership=officer, alert=message_with_details(later)
    )
    assert {(r.field, r.count) for r in refs} == {("document", 1), ("flight", 1)}
    assert (
        cross_references(user=officer.user, membership=officer, alert=message_with_details(first))
        == []
    )
    client.force_login(officer.user)
    html = client.get(f"/o/cocair/messages/{later.id}/").content.decode()
    assert "/o/cocair/search/?document=AB1234567" in html
    assert "1 earlier message you can see" in html


def test_reindex_command_rebuilds_the_tokens(ocu, officer, cocair):
    alert = send_alert(ocu, cocair, to=[officer])
    before = set(SearchToken.objects.values_list("field", "digest"))
    SearchToken.objects.all().delete()
    call_command("reindex_messages", "--batch-size", "1", stdout=StringIO())
    assert set(SearchToken.objects.values_list("field", "digest")) == before
    assert found(officer, document="AB1234567") == [alert.id]
    assert Message.objects.count() == 1
