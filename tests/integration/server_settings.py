"""Settings of the daphne processes started by the integration tier.

The project's settings, with the channel layer under a prefix of this test run
(``AIRCOP_CHANNEL_PREFIX``), so that the tier never reads nor deletes Redis keys
it does not own.
"""

import os

from aircop.settings import *  # noqa: F403
from aircop.settings import CHANNEL_LAYERS

CHANNEL_LAYERS["default"].setdefault("CONFIG", {})["prefix"] = os.environ["AIRCOP_CHANNEL_PREFIX"]
