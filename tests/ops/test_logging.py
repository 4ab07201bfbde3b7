"""Structured logs: JSON lines with a request id, and never a message's content or a name."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
from datetime import date

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from accounts.models import Role
from accounts.services import api_token_create
from aircop.asgi import application
from aircop.request_id import HEADER
from tests.factories import OperationFactory, member

SUBJECT = "Courier on ET 908 tonight"
BODY = "Swallower suspected, travelling with a second passport."
PASSENGER = "Zebulon Quixote-Marchetti"
DOCUMENT = "ZQ9981234"


@pytest.fixture
def json_log():
    """The root logger writes through the project's JSON formatter and request-id filter
    (the production configuration) into a buffer, at DEBUG; restored afterwards."""
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": settings.LOGGING["filters"],
            "formatters": settings.LOGGING["formatters"],
            "handlers": {
                "capture": {
                    "class": "logging.StreamHandler",
                    "stream": buffer,
                    "formatter": "json",
                    "filters": ["request_id"],
                }
            },
            "root": {"handlers": ["capture"], "level": "DEBUG"},
        }
    )
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


@pytest.mark.django_db
def test_each_request_logs_one_json_line_with_its_request_id(client, json_log):
    response = client.get("/accounts/login/?next=/o/secret-search/", HTTP_X_REQUEST_ID="abc-123")

    assert response[HEADER] == "abc-123"
    access = [r for r in lines(json_log) if r["logger"] == "aircop.request"]
    assert len(access) == 1
    assert access[0]["request_id"] == "abc-123"
    assert access[0]["method"] == "GET"
    assert access[0]["path"] == "/accounts/login/"  # never the query string
    assert access[0]["status"] == 200
    assert {"time", "level", "message", "duration_ms"} <= set(access[0])
    assert "secret-search" not in json_log.getvalue()


@pytest.mark.django_db
def test_a_request_id_that_is_not_a_plain_token_is_replaced(client, json_log):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="<script>\nforged line")

    request_id = response[HEADER]
    assert request_id != "<script>\nforged line"
    assert len(request_id) == 32
    assert "forged" not in json_log.getvalue()
    assert [r["request_id"] for r in lines(json_log) if r["logger"] == "aircop.request"] == [
        request_id
    ]


@pytest.mark.django_db(transaction=True)
def test_sending_and_pushing_a_message_logs_no_content_and_no_name(client, json_log):
    # given an officer online on the websocket and the OCU with an API token
    operation = OperationFactory(slug="cocair")
    ocu = member(operation, Role.OCU, "SN", "DSS", username="ocu")
    officer = member(operation, Role.OFFICER, "SN", "DSS", username="officer")
    officer_secret = api_token_create(user=officer.user, name="t")[1]
    ocu_secret = api_token_create(user=ocu.user, name="t")[1]
    payload = {
        "kind": "alert",
        "subject": SUBJECT,
        "body": BODY,
        "priority": "urgent",
        "to": {"my_country": True},
        "alert": {
            "flight_number": "ET908",
            "flight_date": str(date.today()),
            "departure_airport": "GRU",
            "destination_airport": "DSS",
            "subjects": [
                {"name": PASSENGER, "document_type": "passport", "document_number": DOCUMENT}
            ],
            "suspected_commodity": "cocaine",
            "requested_action": "Control on arrival.",
        },
    }

    async def scenario():
        ws = WebsocketCommunicator(
            application,
            "/ws/",
            headers=[
                (b"authorization", f"Bearer {officer_secret}".encode()),
                (b"x-request-id", b"socket-1"),
            ],
        )
        connected, _ = await ws.connect()
        assert connected
        await ws.receive_json_from()  # hello

        # when the OCU sends an Alert about a passenger through the API
        response = await database_sync_to_async(client.post)(
            "/api/v1/operations/cocair/messages",
            data=payload,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {ocu_secret}",
            HTTP_X_REQUEST_ID="send-1",
        )
        event = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return response, event

    response, event = asyncio.run(scenario())

    # then the message went out (the officer's socket got it, subject included)
    assert response.status_code == 201, response.content
    assert event["message"]["subject"] == SUBJECT
    # and the log shows the send and the socket by their request ids
    records = lines(json_log)
    assert any(
        r["request_id"] == "send-1" and r.get("path") == "/api/v1/operations/cocair/messages"
        for r in records
    )
    assert any(r["request_id"] == "socket-1" and r["logger"] == "aircop.websocket" for r in records)
    # but never the subject, the body, the passenger's name, the document or a token
    text = json_log.getvalue()
    for secret in (SUBJECT, BODY, PASSENGER, DOCUMENT, "Zebulon", ocu_secret, officer_secret):
        assert secret not in text


def test_a_task_queued_during_a_request_logs_under_the_request_id(json_log):
    from aircop.celery import app
    from aircop.request_id import current

    @app.task(name="tests.ops.log_something")
    def log_something():
        logging.getLogger("tests.ops").info("task ran")

    token = current.set("req-42")
    try:
        log_something.delay()  # eager here: it runs inside the request and keeps its id
    finally:
        current.reset(token)

    assert [r["request_id"] for r in lines(json_log) if r["message"] == "task ran"] == ["req-42"]
