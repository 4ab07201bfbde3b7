"""Fixtures of the integration tier: real daphne processes sharing the Redis channel layer.

Every process of a test run (the servers and pytest itself) uses one channel-layer
prefix of its own, and only keys under that prefix are deleted at the end.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT, AsgiServer, _free_port, _tcp_open, server_environment

CHANNEL_PREFIX = f"aircop-it-{uuid.uuid4().hex[:12]}"
SERVER_SETTINGS = "tests.integration.server_settings"
# The ASGI server of the tier's processes: daphne (default, as `make run`) or uvicorn (as the
# compose file): AIRCOP_TEST_ASGI_SERVER=uvicorn runs the whole tier on it.
ASGI_SERVER = os.environ.get("AIRCOP_TEST_ASGI_SERVER", "daphne")


def server_command(port: int) -> list[str]:
    if ASGI_SERVER == "uvicorn":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--ws-per-message-deflate",  # as the Dockerfile
            "false",
            "aircop.asgi:application",
        ]
    return [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "aircop.asgi:application",
    ]


def start_server(
    directory: Path, name: str, *, port: int | None = None, env: dict[str, str] | None = None
) -> AsgiServer:
    """``tests.conftest.start_asgi_server`` with this run's channel-layer prefix; ``port`` to
    start again where a stopped server listened, ``env`` to override its environment."""
    port = port or _free_port()
    log = directory / f"{name}-{port}-{time.monotonic_ns()}.log"
    env = {
        **server_environment(),
        "DJANGO_SETTINGS_MODULE": SERVER_SETTINGS,
        "AIRCOP_CHANNEL_PREFIX": CHANNEL_PREFIX,
        **(env or {}),
    }
    process = subprocess.Popen(
        server_command(port),
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{ASGI_SERVER} exited ({process.returncode}):\n{log.read_text()}")
        if _tcp_open("127.0.0.1", port):
            return AsgiServer(port, process, log)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{ASGI_SERVER} did not listen on {port} within 30 s:\n{log.read_text()}")


def _delete_own_keys() -> None:
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        keys = list(client.scan_iter(match=f"{CHANNEL_PREFIX}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _own_channel_layer(settings):
    """This process's channel layer (events sent after commit) under the run's prefix."""
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"].setdefault("CONFIG", {})["prefix"] = CHANNEL_PREFIX
    settings.CHANNEL_LAYERS = layers  # setting_changed resets channels' cached layers
    yield


@pytest.fixture(scope="session")
def _redis_cleanup():
    yield
    if os.environ.get("REDIS_URL", "").startswith("redis://"):
        _delete_own_keys()


@pytest.fixture(scope="session")
def servers(django_db_setup, tmp_path_factory, _redis_cleanup):
    """Two daphne processes (A, B) on the test database, sharing the Redis channel layer.

    Started once per run; each test brings its data with ``transactional_db`` so that
    the servers see it.
    """
    directory = tmp_path_factory.mktemp("asgi")
    started: list[AsgiServer] = []
    try:
        started.append(start_server(directory, "A"))
        started.append(start_server(directory, "B"))
        yield tuple(started)
    finally:
        for server in started:
            server.stop()


class Team:
    """An operation with one OCU and some officers, each with an API token secret."""

    def __init__(self, officers: int):
        from accounts.models import Role
        from accounts.services import api_token_create
        from tests.factories import OperationFactory, member

        self.operation = OperationFactory()
        self.slug = self.operation.slug
        self.ocu = member(self.operation, role=Role.OCU, country="FR", airport="CDG")
        self.officers = [member(self.operation) for _ in range(officers)]
        self.secrets = {
            m.user.username: api_token_create(user=m.user, name="integration")[1]
            for m in [self.ocu, *self.officers]
        }

    def token(self, membership) -> str:
        return self.secrets[membership.user.username]


@pytest.fixture
def team(transactional_db) -> Team:
    """Committed data (``transactional_db``) that the server processes can read."""
    return Team(officers=3)
