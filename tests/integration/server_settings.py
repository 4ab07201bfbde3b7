"""Settings of the daphne processes started by the integration tier.

The project's settings, with the channel layer under a prefix of this test run
(``AIRCOP_CHANNEL_PREFIX``), so that the tier never reads nor deletes Redis keys
it does not own.
"""

import os

from aircop.settings import *  # noqa: F403
from aircop.settings import CHANNEL_LAYERS

CHANNEL_LAYERS["default"].setdefault("CONFIG", {})["prefix"] = os.environ["AIRCOP_CHANNEL_PREFIX"]

# Request-rate limits: only login's, per username, and low enough to be reached before
# django-axes locks the username (5 failures): test_rate_limits_shared.py counts it over both
# servers (LOGIN_LIMIT there). The other limits would stop the tier's floods (1,000 messages
# sent in a few seconds), so they are off here; tests/test_rate_limits.py covers each of them.
AIRCOP_RATE_LIMITS = {"login": {"user": "3/m"}}
