"""Django's ASGI handler with the request's middleware chain run in one worker thread.

Django's own handler always starts the chain in async mode: its innermost handler is async, so
a synchronous middleware anywhere in ``MIDDLEWARE`` (ours are, as are those of django-otp's
neighbours) makes Django hop from the worker thread back to the event loop below it, then to a
thread again for each ``process_view`` and for the (synchronous) view. Under load those hops,
each copying the request's context and waking a thread or the loop, were a measurable share of
an API send's CPU (docs/performance.md, "The send path alone").

This handler builds the chain as under WSGI (every middleware in sync mode, the views called
directly) and runs it in the request's worker thread in one ``sync_to_async``: one hop in, one
out. Everything else is Django's ``ASGIHandler``: the thread per request
(``ThreadSensitiveContext``), reading the body, disconnects, streaming the response. An async
view, should one be added, still works: Django's sync path runs it with ``async_to_sync``.

At most ``AIRCOP_REQUESTS_IN_FLIGHT`` requests (8) run at once in a process; the next wait on
the event loop, where waiting costs nothing. Django starts a thread per request, and every
thread of the process shares one interpreter lock with the event loop: with 32 sends in flight
per process in an overload, the threads took turns at the lock after each query while the
loop's socket events waited behind them, and throughput fell as the backlog grew instead of
draining it (docs/performance.md, "Requests in flight"). The request's body is read, and a
streamed response sent, outside the limit.
"""

from __future__ import annotations

import asyncio

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

from aircop.loop_local import loop_local

in_flight = loop_local(lambda: asyncio.Semaphore(settings.AIRCOP_REQUESTS_IN_FLIGHT))


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        async with in_flight():
            return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_asgi_application() -> SyncChainASGIHandler:
    """``django.core.asgi.get_asgi_application`` with the handler above."""
    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
