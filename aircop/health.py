"""``/healthz``: the liveness probe of the container and of the proxy.

Answered before any other middleware: the probe comes over plain HTTP from inside the
container network, with the container's own address as host, so neither the HTTPS redirect
nor ``ALLOWED_HOSTS`` may turn it away. It says whether this process reaches its database;
it reveals nothing else.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpResponse

PATH = "/healthz"
logger = logging.getLogger(__name__)


def database_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("Health check: the database is not reachable.")
        return False
    return True


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != PATH:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
        ok = database_reachable()
        return HttpResponse(
            "ok\n" if ok else "database unreachable\n",
            status=200 if ok else 503,
            content_type="text/plain; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )
