"""Rate limits count in Redis: requests spread over two server processes share one budget."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest

pytestmark = pytest.mark.integration

LOGIN = "/accounts/login/"


def csrf_token(client: httpx.Client, server) -> str:
    html = client.get(f"{server.url}{LOGIN}").text
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_login_attempts_on_two_servers_count_together(servers, transactional_db):
    from django.conf import settings

    per_user = settings.AIRCOP_RATE_LIMITS["login"]["user"]
    count, period = per_user.split("/")
    assert period == "m", "this test expects a per-minute login limit"
    count = int(count)
    # A fixed window: start early in a minute, so that every attempt falls in the same one.
    if time.time() % 60 > 50:
        time.sleep(60 - time.time() % 60)
    username = f"nobody-{uuid.uuid4().hex[:8]}"
    with httpx.Client(timeout=30) as client:
        token = csrf_token(client, servers[0])
        statuses = []
        for n in range(count + 1):
            server = servers[n % 2]
            response = client.post(
                f"{server.url}{LOGIN}",
                data={"username": username, "password": "wrong", "csrfmiddlewaretoken": token},
            )
            statuses.append(response.status_code)
    assert statuses[:count] == [200] * count  # the form again: wrong credentials
    assert statuses[count] == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
