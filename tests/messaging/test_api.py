"""The JSON API: session or Bearer auth, sending, inbox pages, errors naming the field."""

from datetime import timedelta

import pytest

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from messaging.models import BODY_MAX, Delivery, Message
from messaging.routing import Targets
from messaging.services import message_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(client):
    def for_user(user):
        _token, secret = api_token_create(user=user, name="test")
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return for_user


def post_message(client, headers, slug="cocair", **payload):
    body = {"kind": "free_text", "subject": "Alert", "body": "Control seat 12A.", **payload}
    return client.post(
        f"/api/v1/operations/{slug}/messages", body, content_type="application/json", **headers
    )


def test_my_operations_with_my_role(client, bearer, cocair, officer, outsider):
    response = client.get("/api/v1/operations", **bearer(officer.user))
    assert response.status_code == 200
    assert [(o["slug"], o["role"]) for o in response.json()] == [("cocair", "officer")]


def test_members_lists_only_who_i_may_address(client, bearer, cocair, ocu, officer, colleague):
    from accounts.models import Role
    from tests.factories import member

    member(cocair, Role.OFFICER, "NG", "LOS", username="lagos")
    data = client.get("/api/v1/operations/cocair/members", **bearer(officer.user)).json()
    assert data["targets"] == ["my_country", "ocus", "users"]
    assert sorted(m["username"] for m in data["members"]) == ["colleague", "ocu"]


def test_send_answers_201_with_id_and_recipients(client, bearer, cocair, ocu, officer, colleague):
    response = post_message(client, bearer(ocu.user), to={"officers": True})
    assert response.status_code == 201
    data = response.json()
    assert data["id"] == Message.objects.get().pk
    assert sorted(data["recipients"]) == ["colleague", "officer"]


def test_body_over_the_limit_is_422_naming_body(client, bearer, cocair, ocu, officer):
    response = post_message(
        client, bearer(ocu.user), body="x" * (BODY_MAX + 1), to={"officers": True}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body"]
    assert Message.objects.count() == 0


def test_forbidden_target_is_400_naming_it(client, bearer, cocair, officer, colleague):
    response = post_message(client, bearer(officer.user), to={"officers": True})
    assert response.status_code == 400
    assert response.json()["field"] == "to.officers"
    assert Message.objects.count() == 0


def test_no_recipient_is_400_naming_to(client, bearer, cocair, officer):
    response = post_message(client, bearer(officer.user), to={})
    assert response.status_code == 400
    assert response.json()["field"] == "to"


def test_recipient_outside_the_operation_is_400_naming_users(
    client, bearer, cocair, ocu, officer, outsider
):
    response = post_message(client, bearer(ocu.user), to={"users": ["outsider"]})
    assert response.status_code == 400
    assert response.json()["field"] == "to.users"
    assert Message.objects.count() == 0


def test_missing_field_is_422_naming_it(client, bearer, cocair, ocu, officer):
    response = client.post(
        "/api/v1/operations/cocair/messages",
        {"kind": "free_text", "body": "b"},
        content_type="application/json",
        **bearer(ocu.user),
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"subject", "to"} <= fields


def test_missing_or_unknown_kind_is_422_naming_kind(client, bearer, cocair, ocu, officer):
    for body in ({"subject": "s", "body": "b"}, {"kind": "memo", "subject": "s", "body": "b"}):
        response = client.post(
            "/api/v1/operations/cocair/messages",
            body,
            content_type="application/json",
            **bearer(ocu.user),
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["kind"]


def test_closed_operation_is_409(client, bearer, cocair, ocu, officer):
    cocair.status = "closed"
    cocair.save()
    response = post_message(client, bearer(ocu.user), to={"officers": True})
    assert response.status_code == 409
    assert response.json()["field"] == "operation"


def test_closed_operation_is_404_not_409_for_an_outsider(client, bearer, cocair, ocu, outsider):
    cocair.status = "closed"
    cocair.save()
    response = post_message(client, bearer(outsider.user), to={"ocus": True})
    assert response.status_code == 404
    assert Message.objects.count() == 0


def test_a_token_records_its_last_use_at_most_once_a_minute(client, cocair, officer):
    token, secret = api_token_create(user=officer.user, name="t")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get("/api/v1/operations", **headers).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    # used again within the minute: no new write
    assert client.get("/api/v1/operations", **headers).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first
    # used again after it: recorded
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    assert client.get("/api/v1/operations", **headers).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first


def test_inbox_pages_with_after_cursor(client, bearer, cocair, ocu, officer):
    ids = [
        message_send(
            sender=ocu.user,
            operation=cocair,
            subject=f"m{i}",
            body="b",
            targets=Targets(officers=True),
        ).pk
        for i in range(5)
    ]
    headers = bearer(officer.user)
    first = client.get("/api/v1/operations/cocair/inbox?limit=2", **headers).json()
    assert [m["id"] for m in first["items"]] == ids[:2]
    seen, after = [], 0
    while after is not None:
        page = client.get(
            f"/api/v1/operations/cocair/inbox?after={after}&limit=2", **headers
        ).json()
        seen += [m["id"] for m in page["items"]]
        after = page["next_after"]
    assert seen == ids
    # Listing marks them delivered, not read.
    assert not Delivery.objects.filter(recipient=officer.user, delivered_at=None).exists()
    assert Delivery.objects.filter(recipient=officer.user, read_at=None).count() == 5


def test_reading_a_message_marks_it_read_and_sender_sees_recipients(
    client, bearer, cocair, ocu, officer
):
    message = message_send(
        sender=ocu.user,
        operation=cocair,
        subject="s",
        body="body text",
        targets=Targets(officers=True),
    )
    data = client.get(f"/api/v1/messages/{message.pk}", **bearer(officer.user)).json()
    assert data["body"] == "body text" and data["recipients"] is None
    assert Delivery.objects.get(recipient=officer.user).read_at is not None
    sender_view = client.get(f"/api/v1/messages/{message.pk}", **bearer(ocu.user)).json()
    assert sender_view["recipients"][0]["username"] == "officer"
    assert sender_view["recipients"][0]["read_at"] is not None


def test_non_member_gets_404_on_every_operation_endpoint(
    client, bearer, cocair, ocu, officer, outsider
):
    message = message_send(
        sender=ocu.user, operation=cocair, subject="s", body="b", targets=Targets(officers=True)
    )
    headers = bearer(outsider.user)
    assert client.get("/api/v1/operations/cocair/members", **headers).status_code == 404
    assert client.get("/api/v1/operations/cocair/inbox", **headers).status_code == 404
    assert client.get(f"/api/v1/messages/{message.pk}", **headers).status_code == 404
    assert post_message(client, headers, to={"ocus": True}).status_code == 404
    assert client.get("/api/v1/messages/999999", **headers).status_code == 404
    assert Message.objects.count() == 1


def test_no_or_bad_or_revoked_token_is_401(client, cocair, officer):
    assert client.get("/api/v1/operations").status_code == 401
    bad = {"HTTP_AUTHORIZATION": "Bearer acp_not-a-token"}
    assert client.get("/api/v1/operations", **bad).status_code == 401
    token, secret = api_token_create(user=officer.user, name="t")
    api_token_revoke(user=officer.user, token_id=token.pk)
    revoked = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get("/api/v1/operations", **revoked).status_code == 401


def test_session_auth_needs_csrf_for_writes(cocair, ocu, officer):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ocu.user)
    assert browser.get("/api/v1/operations").status_code == 200
    response = post_message(browser, {}, to={"officers": True})
    assert response.status_code in (401, 403)
    assert Message.objects.count() == 0


def test_openapi_schema_and_docs_are_served_locally(client, officer):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/operations/{slug}/messages" in paths
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_inbox_follows_the_order_of_delivery_not_of_ids(client, bearer, cocair, ocu, officer):
    from tests.factories import delivered_in_reverse

    # given two messages the officer received in the other order than their ids (the first
    # numbered committed last)
    first, second = (
        message_send(
            sender=ocu.user, operation=cocair, subject=s, body="b", targets=Targets(officers=True)
        )
        for s in ("first", "second")
    )
    delivered_in_reverse(first, second, officer.user)
    headers = bearer(officer.user)

    def inbox(after):
        url = f"/api/v1/operations/cocair/inbox?after={after}"
        return [m["id"] for m in client.get(url, **headers).json()["items"]]

    # then the inbox lists them as delivered, and a client that read the second (its last but
    # for the lower id) still gets the first
    assert inbox(0) == [second.pk, first.pk]
    assert inbox(second.pk) == [first.pk]
    assert inbox(first.pk) == []
