"""Settings of the bench's processes: the project's settings, with the channel layer and the cache
under a prefix of this run (``AIRCOP_CHANNEL_PREFIX``) so that the bench touches no other Redis
key, and no request-rate limit (the bench sends as fast as the stack accepts, on purpose)."""

import os

from aircop.settings import *  # noqa: F403
from aircop.settings import CACHES, CHANNEL_LAYERS

CHANNEL_LAYERS["default"].setdefault("CONFIG", {})["prefix"] = os.environ["AIRCOP_CHANNEL_PREFIX"]
for _cache in CACHES.values():
    _cache["KEY_PREFIX"] = os.environ["AIRCOP_CHANNEL_PREFIX"]
AIRCOP_RATE_LIMITS: dict = {}
