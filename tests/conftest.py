"""Shared fixtures and the test tiers.

Tiers: fast tests run everywhere; ``integration`` needs PostgreSQL and Redis
(``DATABASE_URL``, ``REDIS_URL``); ``browser`` drives Debian's Chromium. Out of
CI a tier whose service is missing is skipped with the reason; under
``CI=true`` it fails loudly instead: no tier may be skipped in CI.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("AIRCOP_CHROMIUM", "/usr/bin/chromium")

# Encryption at rest: one fixed master key for this test run (no key file is written), also
# handed to the server subprocesses (server_environment) so they decrypt the same rows.
TEST_MASTER_KEYS = f"test-run:{base64.b64encode(os.urandom(32)).decode('ascii')}"
os.environ["AIRCOP_MASTER_KEYS"] = TEST_MASTER_KEYS
# Cache keys (rate-limit counters) of this run, in Redis for the integration tier: under a
# prefix of their own, shared with the server subprocesses, never another run's.
os.environ["AIRCOP_CACHE_PREFIX"] = f"aircop-test-{uuid.uuid4().hex[:12]}"
# No warning for a test process's garbage collections (a heap of test objects), which would land
# among the log lines some tests read: for the server subprocesses through their environment,
# for this process by _no_gc_pause_warnings (its settings are loaded before this line runs).
os.environ.setdefault("AIRCOP_GC_PAUSE_WARNING_MS", "0")


def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _integration_problem() -> str | None:
    db_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not db_url.startswith(("postgres://", "postgresql://")):
        return (
            "DATABASE_URL must point at PostgreSQL (e.g. postgres://postgres@127.0.0.1:5432/test)"
        )
    if not redis_url.startswith("redis://"):
        return "REDIS_URL must point at Redis (e.g. redis://127.0.0.1:6379/0)"
    for label, url, default_port in (("PostgreSQL", db_url, 5432), ("Redis", redis_url, 6379)):
        parsed = urlparse(url)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
        if not _tcp_open(host, port):
            return f"{label} is not reachable at {host}:{port} ({label} must be running)"
    return None


def _browser_problem() -> str | None:
    if not Path(CHROMIUM).exists():
        return (
            f"Chromium not found at {CHROMIUM} (apt-get install chromium, or `make browser-deps`)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    return None


@pytest.hookimpl(trylast=True)  # after `-m` has deselected the other tiers
def pytest_collection_modifyitems(config, items):
    checks = {"integration": _integration_problem, "browser": _browser_problem}
    for tier, check in checks.items():
        selected = [item for item in items if item.get_closest_marker(tier)]
        if not selected:
            continue
        problem = check()
        if problem is None:
            continue
        message = f"{tier} tier cannot run: {problem}"
        if IN_CI:
            pytest.exit(f"CI=true and the {message}", returncode=3)
        for item in selected:
            item.add_marker(pytest.mark.skip(reason=message))


# --- a real ASGI server (daphne) in a subprocess, on the test database ---------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment() -> dict[str, str]:
    """The environment of a server process that uses this test run's database."""
    from django.db import connection

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aircop.settings",
        "PYTHONUNBUFFERED": "1",
        "AIRCOP_MASTER_KEYS": TEST_MASTER_KEYS,
    }
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        env["AIRCOP_SQLITE_PATH"] = str(db["NAME"])
    else:
        auth = quote(db["USER"] or "")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"])
        env["DATABASE_URL"] = (
            f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env


class AsgiServer:
    def __init__(self, port: int, process: subprocess.Popen, log: Path):
        self.port, self.process, self.log = port, process, log
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/ws/"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_asgi_server(tmp_path: Path, name: str = "asgi") -> AsgiServer:
    port = _free_port()
    log = tmp_path / f"{name}-{port}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "aircop.asgi:application",
        ],
        cwd=ROOT,
        env=server_environment(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}:\n{log.read_text()}")
        if _tcp_open("127.0.0.1", port):
            return AsgiServer(port, process, log)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"daphne did not listen on {port} within 30 s:\n{log.read_text()}")


@pytest.fixture
def asgi_server(transactional_db, tmp_path):
    """A real daphne process serving the app (HTTP and websockets) on the test database."""
    server = start_asgi_server(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def chromium_path() -> str:
    return shutil.which(CHROMIUM) or CHROMIUM


@pytest.fixture(autouse=True)
def _no_gc_pause_warnings():
    """Importing ``aircop.asgi`` (at collection, or in an earlier test) turns them on with the
    settings' default (aircop/gc_pauses.py, whose tests turn them on for themselves)."""
    from aircop import gc_pauses

    gc_pauses.log_long_pauses(0)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """New passwords hash fast in-process; Argon2 and PBKDF2 stay to check the factories'
    shared hash (made with the default settings, which a server subprocess uses too)."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _force_login_is_verified(monkeypatch):
    """``client.force_login(user)`` gives a session verified by a second factor, as the app's
    login flow does (tests/otp.py); ``tests.otp.force_login_unverified`` gives one without."""
    from django.test.client import ClientMixin

    from tests import otp

    monkeypatch.setattr(ClientMixin, "force_login", otp.force_login_verified)
    monkeypatch.setattr(ClientMixin, "aforce_login", otp.aforce_login_verified)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request served in another language by an
    earlier test leaves it active in this thread (translated model fields would follow it)."""
    from django.utils import translation

    with translation.override(None):
        translation.activate("en")
        yield


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings):
    """Each test counts its own requests: the rate-limit counters under a prefix of its own."""
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {**settings.CACHES["ratelimit"], "KEY_PREFIX": f"rl-{uuid.uuid4().hex}"},
    }
