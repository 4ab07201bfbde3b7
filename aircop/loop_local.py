"""One object per running event loop: an ASGI process has one loop, each async test its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from weakref import WeakKeyDictionary


def loop_local[T](factory: Callable[[], T]) -> Callable[[], T]:
    """A function returning the running loop's instance of ``factory()``, made on first use
    and forgotten with its loop."""
    instances: WeakKeyDictionary[asyncio.AbstractEventLoop, T] = WeakKeyDictionary()

    def instance() -> T:
        loop = asyncio.get_running_loop()
        if loop not in instances:
            instances[loop] = factory()
        return instances[loop]

    return instance
