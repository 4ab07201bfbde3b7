"""HTTP through the project's ASGI application (``aircop.asgi``), as an ASGI server runs it:
the middleware chain and the view in one worker thread, the responses as under Django's own
handler."""

from __future__ import annotations

import asyncio
import threading
import time
from inspect import iscoroutinefunction

import httpx
import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from accounts.models import Role
from accounts.services import api_token_create
from aircop.asgi import application
from aircop.asgi_handler import SyncChainASGIHandler
from aircop.request_id import HEADER
from messaging.models import Message
from tests.factories import OperationFactory, member

pytestmark = pytest.mark.django_db(transaction=True)

THREADS: list[int] = []


def innermost(get_response):
    """A synchronous middleware, last before the view, that records the thread it runs on."""

    def record(request):
        THREADS.append(threading.get_ident())
        return get_response(request)

    return record


RUNNING = {"now": 0, "most": 0}
COUNTING = threading.Lock()


def slow_counting(get_response):
    """A synchronous middleware that counts the requests running at once, each 50 ms long."""

    def count(request):
        with COUNTING:
            RUNNING["now"] += 1
            RUNNING["most"] = max(RUNNING["most"], RUNNING["now"])
        try:
            time.sleep(0.05)
            return get_response(request)
        finally:
            with COUNTING:
                RUNNING["now"] -= 1

    return count


def asgi_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_an_api_send_through_the_asgi_application_is_stored_and_answered():
    def setup():
        operation = OperationFactory()
        ocu = member(operation, role=Role.OCU)
        member(operation, role=Role.OFFICER)
        return operation, api_token_create(user=ocu.user, name="t")[1]

    operation, secret = await database_sync_to_async(setup)()
    async with asgi_client(application) as client:
        response = await client.post(
            f"/api/v1/operations/{operation.slug}/messages",
            headers={"Authorization": f"Bearer {secret}"},
            json={
                "kind": "free_text",
                "subject": "Courier",
                "body": "Check",
                "to": {"officers": True},
            },
        )
        outsider = await client.get(
            "/api/v1/operations/not-mine/inbox", headers={"Authorization": f"Bearer {secret}"}
        )
    assert response.status_code == 201, response.text
    assert response.headers[HEADER]
    message = await Message.objects.aget(pk=response.json()["id"])
    assert message.subject == "Courier"
    assert outsider.status_code == 404
    assert outsider.headers["content-type"].startswith("application/json")


async def test_a_page_through_the_asgi_application_carries_the_middlewares_headers():
    async with asgi_client(application) as client:
        response = await client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers
    assert response.headers[HEADER]


def test_the_middleware_chain_is_built_synchronous_with_no_hop_back_to_the_loop():
    """Django's own handler builds it async below the last synchronous middleware: a hop from
    the worker thread to the event loop and back for each request, and one per view middleware."""
    handler = SyncChainASGIHandler()
    assert not iscoroutinefunction(handler._middleware_chain)
    assert handler._view_middleware
    assert not any(iscoroutinefunction(method) for method in handler._view_middleware)


async def test_the_chain_and_the_view_run_in_a_worker_thread_off_the_event_loop():
    from django.conf import settings

    THREADS.clear()
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, f"{__name__}.innermost"]):
        async with asgi_client(SyncChainASGIHandler()) as client:
            response = await client.get("/accounts/login/")
    assert response.status_code == 200
    assert len(THREADS) == 1
    assert THREADS[0] != threading.get_ident()


async def test_a_process_runs_at_most_its_limit_of_requests_at_once_and_queues_the_rest():
    from django.conf import settings

    RUNNING.update(now=0, most=0)
    with override_settings(
        MIDDLEWARE=[*settings.MIDDLEWARE, f"{__name__}.slow_counting"],
        AIRCOP_REQUESTS_IN_FLIGHT=2,
    ):
        async with asgi_client(SyncChainASGIHandler()) as client:
            responses = await asyncio.gather(*(client.get("/accounts/login/") for _ in range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    assert RUNNING["most"] == 2


async def test_requests_one_after_the_other_reuse_a_kept_thread():
    """No thread started (and joined) from the event loop per request."""
    from django.conf import settings

    THREADS.clear()
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, f"{__name__}.innermost"]):
        async with asgi_client(SyncChainASGIHandler()) as client:
            for _ in range(3):
                assert (await client.get("/accounts/login/")).status_code == 200
    assert len(THREADS) == 3
    assert len(set(THREADS)) == 1
    assert THREADS[0] != threading.get_ident()


async def test_requests_beyond_the_kept_threads_get_threads_of_their_own():
    from django.conf import settings

    RUNNING.update(now=0, most=0)
    THREADS.clear()
    middleware = [*settings.MIDDLEWARE, f"{__name__}.innermost", f"{__name__}.slow_counting"]
    with override_settings(MIDDLEWARE=middleware, AIRCOP_REQUESTS_IN_FLIGHT=2):
        handler = SyncChainASGIHandler()
        async with asgi_client(handler) as client:
            # twice as many requests at once as there are kept threads (2 per request in flight)
            responses = await asyncio.gather(*(client.get("/accounts/login/") for _ in range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert handler.threads.made == 4
    assert len(handler.threads.idle) == 4  # every kept thread given back
    assert len(set(THREADS)) > 4  # the others ran on threads of their own
    assert RUNNING["most"] == 2
