"""Health endpoints for the proxy and the orchestrator: no authentication, no personal data.

``/health/live``: the process answers (liveness). ``/health/ready``: the process can serve, i.e.
the database answers, Redis answers, and an event sent through the channel layer comes back
(readiness); ``503`` names the check that failed. ``/healthz``: the database only, in plain text
(``ok``), the older probe, kept for the probes that use it. They are served by a middleware
placed before host validation and the HTTPS redirect, so that a check from inside the container
(``Host: 127.0.0.1``, plain HTTP) reaches them; they reveal nothing but "ok" / "failed".
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
PATH = "/healthz"
PATHS = (LIVE_PATH, READY_PATH, PATH)
CHECK_TIMEOUT = 3  # seconds, per check


def database_ok() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def database_reachable() -> bool:
    try:
        database_ok()
    except DatabaseError:
        logger.exception("Health check: the database is not reachable.")
        return False
    return True


def redis_ok() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()


async def _channel_layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel(prefix="health.")
    marker = uuid.uuid4().hex
    await layer.send(channel, {"type": "health.check", "marker": marker})
    event = await asyncio.wait_for(layer.receive(channel), CHECK_TIMEOUT)
    if event.get("marker") != marker:
        raise RuntimeError("the channel layer returned another event")


def channel_layer_ok() -> None:
    async_to_sync(_channel_layer_round_trip)()


def readiness() -> dict[str, str]:
    """Each check's result, ``ok``, ``failed`` or ``not configured`` (no Redis in the embedded
    default); the reason of a failure goes to the log, not to the answer."""
    checks = {"database": database_ok, "redis": redis_ok, "channel_layer": channel_layer_ok}
    results = {}
    for name, check in checks.items():
        if name == "redis" and not settings.REDIS_URL:
            results[name] = "not configured"
            continue
        try:
            check()
        except Exception:
            logger.warning("readiness check %s failed", name, exc_info=True)
            results[name] = "failed"
        else:
            results[name] = "ok"
    return results


class HealthCheckMiddleware:
    """Answers the two health paths before any other middleware (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path not in PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
        if request.path == PATH:
            ok = database_reachable()
            return HttpResponse(
                "ok\n" if ok else "database unreachable\n",
                status=200 if ok else 503,
                content_type="text/plain; charset=utf-8",
                headers={"Cache-Control": "no-store"},
            )
        if request.path == LIVE_PATH:
            response = JsonResponse({"status": "ok"})
        else:
            checks = readiness()
            ready = all(result != "failed" for result in checks.values())
            response = JsonResponse(
                {"status": "ok" if ready else "unavailable", "checks": checks},
                status=200 if ready else 503,
            )
        response["Cache-Control"] = "no-store"
        return response
