"""The garbage collector in a long-running ASGI process.

A collection of Python's oldest generation stops the whole process while it runs: the event
loop (every socket's events) and every request's worker thread. Under a sustained load of 50
messages a second, each ASGI process ran one every 20–30 seconds, of 110–150 ms, and the sends
caught behind one made the tail of the send latency (docs/performance.md, "Garbage collection
pauses"). Most of what it scanned was what the process loaded at start-up (modules, classes,
settings, URL patterns, translations), which lives as long as the process.

``freeze_start_up`` moves those objects out of the collector's way (``gc.freeze``), once the
application is loaded: the full collections that remain scan only what the process allocated
since. ``log_long_pauses`` logs a warning for each collection that held the process longer than
``AIRCOP_GC_PAUSE_WARNING_MS``, so that the pauses show in production's logs (and in
bench/sustained.py's report).
"""

from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)

_started: float | None = None  # when the running collection began
_threshold_ms = 0.0  # 0: no warnings
_logging = False  # a warning is being written (a collection meanwhile is not logged)


def freeze_start_up() -> None:
    """Collect what start-up left behind, then freeze every object that remains."""
    gc.collect()
    gc.freeze()


def log_long_pauses(threshold_ms: float) -> None:
    """Log each collection longer than ``threshold_ms`` (0: none)."""
    global _threshold_ms
    _threshold_ms = max(threshold_ms, 0.0)
    if _threshold_ms and _on_collection not in gc.callbacks:
        gc.callbacks.append(_on_collection)


def _on_collection(phase: str, info: dict) -> None:
    global _started, _logging
    if phase == "start":
        _started = time.perf_counter()
        return
    if _started is None or not _threshold_ms or _logging:
        return
    held_ms = (time.perf_counter() - _started) * 1000
    if held_ms < _threshold_ms:
        return
    _logging = True
    try:
        logger.warning(
            "garbage collection of generation %d held the process for %.0f ms",
            info["generation"],
            held_ms,
        )
    finally:
        _logging = False
