"""The audit page and API: administrators see everything, an OCU its operations' events,
anyone else 404; filters, pages newest first, CSV export (itself audited)."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.audit.chain import event_hash
from accounts.models import AuditEvent, Role
from accounts.services import api_token_create
from tests.factories import OperationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

URL = "/audit/"


@pytest.fixture
def world():
    """Two operations, each with an OCU and an officer; events in both, and outside both."""
    cocair = OperationFactory(slug="cocair", name="COCAIR VI")
    other = OperationFactory(slug="other", name="Other operation")
    people = {
        "ocu": member(cocair, Role.OCU, "BE", "BRU", username="ocu").user,
        "officer": member(cocair, Role.OFFICER, username="officer").user,
        "other_ocu": member(other, Role.OCU, username="other_ocu").user,
        "admin": UserFactory(username="admin", is_staff=True),
    }
    audit_record(actor=people["officer"], action="message.sent", operation=cocair, target=cocair)
    audit_record(actor=people["ocu"], action="message.read", operation=cocair, target=cocair)
    audit_record(actor=people["other_ocu"], action="message.sent", operation=other, target=other)
    audit_record(actor=people["officer"], action="api_token.created")
    audit_record(actor=None, action="user.login_failed", data={"username": "officer", "ip": "x"})
    return {"cocair": cocair, "other": other, **people}


def listed(response):
    return [(e.actor.username if e.actor else None, e.action) for e in response.context["page"]]


def test_an_administrator_sees_every_event_newest_first(client, world):
    client.force_login(world["admin"])  # the login itself becomes the newest event
    response = client.get(URL)
    assert response.status_code == 200
    assert listed(response) == [
        ("admin", "user.logged_in"),
        (None, "user.login_failed"),
        ("officer", "api_token.created"),
        ("other_ocu", "message.sent"),
        ("ocu", "message.read"),
        ("officer", "message.sent"),
    ]
    html = response.content.decode()
    assert "Message read" in html and "COCAIR VI" in html


def test_an_ocu_sees_only_its_operations_events_and_404_for_another(client, world):
    client.force_login(world["ocu"])
    response = client.get(URL)
    assert listed(response) == [("ocu", "message.read"), ("officer", "message.sent")]
    assert client.get(URL, {"operation": "cocair"}).status_code == 200
    assert client.get(URL, {"operation": "other"}).status_code == 404
    assert client.get(URL, {"operation": "nowhere"}).status_code == 404


@pytest.mark.parametrize("who", ["officer", "anyone"])
def test_an_officer_or_a_user_without_operation_gets_404(client, world, who):
    user = world["officer"] if who == "officer" else UserFactory(username="lonely")
    client.force_login(user)
    assert client.get(URL).status_code == 404
    assert client.get(URL, {"format": "csv"}).status_code == 404
    assert client.get("/api/v1/audit").status_code == 404


def test_an_ocu_who_left_loses_the_page(client, world):
    membership = world["ocu"].memberships.get()
    membership.active = False
    membership.save()
    client.force_login(world["ocu"])
    assert client.get(URL).status_code == 404


def test_anonymous_is_sent_to_log_in(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_filters_by_user_action_operation_and_dates(client, world):
    client.force_login(world["admin"])
    by_user = listed(client.get(URL, {"user": "officer"}))
    assert by_user == [
        (None, "user.login_failed"),  # the name tried
        ("officer", "api_token.created"),
        ("officer", "message.sent"),
    ]
    assert listed(client.get(URL, {"action": "message.sent"})) == [
        ("other_ocu", "message.sent"),
        ("officer", "message.sent"),
    ]
    assert listed(client.get(URL, {"operation": "other"})) == [("other_ocu", "message.sent")]
    assert listed(client.get(URL, {"operation": "cocair", "action": "message.sent"})) == [
        ("officer", "message.sent")
    ]
    today = timezone.localdate()
    assert len(listed(client.get(URL, {"from": today, "to": today}))) == 6
    assert listed(client.get(URL, {"from": today + timedelta(days=1)})) == []
    assert listed(client.get(URL, {"to": today - timedelta(days=1)})) == []


def test_an_end_date_before_the_start_date_is_a_field_error(client, world):
    client.force_login(world["admin"])
    today = timezone.localdate()
    response = client.get(URL, {"from": today, "to": today - timedelta(days=1)})
    assert response.status_code == 400
    assert response.context["form"].errors["date_to"]
    assert client.get(URL, {"from": "not-a-date"}).status_code == 400


def test_pages_of_fifty_newest_first(client, world):
    admin = world["admin"]
    for n in range(60):
        audit_record(actor=admin, action="results.exported", data={"n": n})
    client.force_login(admin)
    first = client.get(URL, {"action": "results.exported"}).context["page"]
    assert len(first) == 50 and first[0].data == {"n": 59}
    second = client.get(URL, {"action": "results.exported", "page": 2}).context["page"]
    assert [e.data["n"] for e in second] == list(range(9, -1, -1))


def test_csv_export_of_the_filtered_list_is_itself_audited(client, world):
    client.force_login(world["ocu"])
    response = client.get(URL, {"operation": "cocair", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Sequence", "Time (UTC)", "User", "Operation", "Action"]
    assert [(r[2], r[3], r[4]) for r in rows[1:]] == [
        ("officer", "cocair", "message.sent"),
        ("ocu", "cocair", "message.read"),
    ]
    sent = AuditEvent.objects.get(action="message.sent", operation__slug="cocair")
    assert rows[1][0] == str(sent.sequence) and rows[1][-1] == sent.hash
    assert sent.hash == event_hash(**sent.chain_fields())
    [export] = AuditEvent.objects.filter(action="audit.exported")
    assert export.actor == world["ocu"] and export.operation == world["cocair"]
    assert export.data == {"filters": {"operation": "cocair"}, "events": 2}


def test_csv_export_quotes_text_a_spreadsheet_would_run(client, world):
    audit_record(actor=None, action="user.login_failed", data={"username": "=cmd|' /C calc'!A0"})
    client.force_login(world["admin"])
    response = client.get(URL, {"action": "user.login_failed", "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert all(not cell.startswith("=") for row in rows for cell in row)


def test_the_nav_links_the_audit_for_administrators_and_ocus_only(client, world):
    client.force_login(world["admin"])
    assert 'href="/audit/"' in client.get("/accounts/profile/").content.decode()
    client.force_login(world["ocu"])
    assert 'href="/audit/?operation=cocair"' in client.get("/o/cocair/").content.decode()
    client.force_login(world["officer"])
    assert "/audit/" not in client.get("/o/cocair/").content.decode()


def _api(client, user, **params):
    _token, secret = api_token_create(user=user, name="t")
    return client.get("/api/v1/audit", params, HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_the_api_lists_events_with_their_hashes_and_pages_with_before(client, world):
    body = _api(client, world["admin"], limit=3).json()
    assert [e["action"] for e in body] == [
        "api_token.created",  # the token of this request
        "user.login_failed",
        "api_token.created",
    ]
    newest = AuditEvent.objects.order_by("-sequence").first()
    assert body[0]["sequence"] == newest.sequence and body[0]["hash"] == newest.hash
    older = _api(client, world["admin"], before=body[-1]["sequence"]).json()
    assert [e["actor"] for e in older] == ["other_ocu", "ocu", "officer"]


def test_the_api_scopes_an_ocu_and_names_bad_fields(client, world):
    body = _api(client, world["ocu"]).json()
    assert {e["operation"] for e in body} == {"cocair"}
    assert _api(client, world["ocu"], operation="other").status_code == 404
    assert _api(client, world["officer"]).status_code == 404
    bad = _api(client, world["admin"], limit=0)
    assert bad.status_code == 400 and bad.json()["field"] == "limit"
    today = timezone.localdate()
    bad = _api(client, world["admin"], **{"from": today, "to": today - timedelta(days=1)})
    assert bad.status_code == 400 and bad.json()["field"] == "to"
