"""Request ids: one id per HTTP request, websocket connection and Celery task, on every log line.

The id comes from the client's or the proxy's ``X-Request-ID`` header when it is a plain token
(letters, digits, ``.``, ``_``, ``-``; at most 64), otherwise a new one is made; HTTP responses
carry it back in ``X-Request-ID``. A task queued while handling a request carries the request's
id in its headers. Access lines give the method, the path (never the query string: search terms
and names travel there), the status and the duration, nothing of the content.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
_ASGI_HEADER = b"x-request-id"
_CELERY_HEADER = "aircop_request_id"
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

current: ContextVar[str] = ContextVar("aircop_request_id", default="-")
access_logger = logging.getLogger("aircop.request")
websocket_logger = logging.getLogger("aircop.websocket")


def accepted_or_new(value: str | None) -> str:
    """The incoming id if it is a plain token, otherwise a fresh one."""
    if value and _VALID.match(value):
        return value
    return uuid.uuid4().hex


class RequestIdLogFilter(logging.Filter):
    """Puts the current id on every record as ``request_id`` (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current.get()
        return True


class RequestIdMiddleware:
    """HTTP: sets the id for the request, answers it in ``X-Request-ID``, logs one access line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accepted_or_new(request.headers.get(HEADER))
        request.request_id = request_id
        token = current.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            access_logger.info(
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            current.reset(token)


class WebsocketRequestIdMiddleware:
    """ASGI (websocket): one id per connection, from the handshake's ``X-Request-ID`` or new;
    in ``scope["request_id"]`` and on every log line of the connection's consumer."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        incoming = next(
            (v.decode("latin1") for k, v in scope.get("headers", []) if k == _ASGI_HEADER), None
        )
        request_id = accepted_or_new(incoming)
        token = current.set(request_id)
        started = time.perf_counter()
        websocket_logger.info("websocket open %s", scope.get("path", ""))
        try:
            return await self.application(dict(scope, request_id=request_id), receive, send)
        finally:
            websocket_logger.info(
                "websocket closed after %.1f s",
                time.perf_counter() - started,
                extra={"duration_s": round(time.perf_counter() - started, 1)},
            )
            current.reset(token)


# --- Celery: the id travels with the task ----------------------------------------------


def _on_before_task_publish(headers=None, **kwargs) -> None:
    if headers is not None and current.get() != "-":
        headers.setdefault(_CELERY_HEADER, current.get())


def _on_task_prerun(task=None, **kwargs) -> None:
    if task is None:
        return
    incoming = getattr(task.request, _CELERY_HEADER, None)
    if incoming is None and current.get() != "-":
        incoming = current.get()  # an eager task, run inside the request that queued it
    task.request.aircop_request_id_token = current.set(accepted_or_new(incoming))


def _on_task_postrun(task=None, **kwargs) -> None:
    token = getattr(task.request, "aircop_request_id_token", None) if task is not None else None
    if token is not None:
        current.reset(token)


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_on_before_task_publish, weak=False)
    task_prerun.connect(_on_task_prerun, weak=False)
    task_postrun.connect(_on_task_postrun, weak=False)
