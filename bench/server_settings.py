"""Settings of the bench's processes: the project's settings, with the channel layer under a
prefix of this run (``AIRCOP_CHANNEL_PREFIX``) so that the bench touches no other Redis key."""

import os

from aircop.settings import *  # noqa: F403
from aircop.settings import CHANNEL_LAYERS

CHANNEL_LAYERS["default"].setdefault("CONFIG", {})["prefix"] = os.environ["AIRCOP_CHANNEL_PREFIX"]
