"""Django's ASGI handler with the request's middleware chain run in one worker thread.

Django's own handler always starts the chain in async mode: its innermost handler is async, so
a synchronous middleware anywhere in ``MIDDLEWARE`` (ours are, as are those of django-otp's
neighbours) makes Django hop from the worker thread back to the event loop below it, then to a
thread again for each ``process_view`` and for the (synchronous) view. Under load those hops,
each copying the request's context and waking a thread or the loop, were a measurable share of
an API send's CPU (docs/performance.md, "The send path alone").

This handler builds the chain as under WSGI (every middleware in sync mode, the views called
directly) and runs it in the request's worker thread in one ``sync_to_async``: one hop in, one
out. Everything else is Django's ``ASGIHandler`` (reading the body, disconnects, streaming the
response), but for the thread, kept across requests (below). An async
view, should one be added, still works: Django's sync path runs it with ``async_to_sync``.

At most ``AIRCOP_REQUESTS_IN_FLIGHT`` requests (8) run at once in a process; the next wait on
the event loop, where waiting costs nothing. Django starts a thread per request, and every
thread of the process shares one interpreter lock with the event loop: with 32 sends in flight
per process in an overload, the threads took turns at the lock after each query while the
loop's socket events waited behind them, and throughput fell as the backlog grew instead of
draining it (docs/performance.md, "Requests in flight"). The request's body is read, and a
streamed response sent, outside the limit.

The synchronous parts of a request (the ``request_started`` signal, the chain and the view,
closing the response) run on one thread, as under Django's handler, but on a thread kept for
the next requests instead of one started and joined for each: Django's handler started each
request's thread from the event loop and waited there until it ran, then, at the end, until it
had stopped, and under load the loop, with every socket's events, spent those waits blocked
(docs/performance.md, "Fourth round"). ``KEPT_THREADS_PER_LIMIT`` threads per request allowed in
flight are kept; a request beyond them (slow uploads, say) gets a thread of its own, as before.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

from aircop.loop_local import loop_local

in_flight = loop_local(lambda: asyncio.Semaphore(settings.AIRCOP_REQUESTS_IN_FLIGHT))

KEPT_THREADS_PER_LIMIT = 2


class KeptThreads:
    """Single-thread executors kept for requests, each running one request at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.idle: list[ThreadPoolExecutor] = []
        self.made = 0

    def take(self) -> ThreadPoolExecutor | None:
        """An idle kept thread, a new one while fewer than ``size`` exist, else None."""
        if self.idle:
            return self.idle.pop()
        if self.made < self.size:
            self.made += 1
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="aircop-request")
        return None

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        self.idle.append(executor)


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self.threads = KeptThreads(KEPT_THREADS_PER_LIMIT * settings.AIRCOP_REQUESTS_IN_FLIGHT)

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        """Django's, with the request's synchronous parts on a kept thread (see above)."""
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            if executor is not None:
                self.threads.give_back(executor)

    async def get_response_async(self, request):
        async with in_flight():
            return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_asgi_application() -> SyncChainASGIHandler:
    """``django.core.asgi.get_asgi_application`` with the handler above."""
    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
