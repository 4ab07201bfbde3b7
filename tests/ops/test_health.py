"""Health endpoints: liveness and readiness, open to probes, naming the check that failed."""

import pytest

from tests.conftest import _free_port

pytestmark = pytest.mark.django_db


def test_liveness_answers_without_authentication(client):
    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readiness_checks_the_database_and_the_channel_layer(client):
    # the embedded default: SQLite, the in-memory channel layer, no Redis
    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "not configured", "channel_layer": "ok"},
    }


def test_readiness_names_what_failed_when_redis_is_down(client, settings):
    # given Redis (and the channel layer on it) at an address where nothing listens
    dead = f"redis://127.0.0.1:{_free_port()}/0"
    settings.REDIS_URL = dead
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [dead]},
        }
    }

    response = client.get("/health/ready")

    # then the process says it is not ready, and why, without any detail of the error
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "failed", "channel_layer": "failed"},
    }


def test_probes_from_inside_the_container_pass_host_checks_and_https_redirect(client, settings):
    # given production-like security: only the public host, HTTPS enforced
    settings.ALLOWED_HOSTS = ["aircop.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^health/"]

    # when a probe calls over plain HTTP with the container's own address as host
    live = client.get("/health/live", HTTP_HOST="127.0.0.1:8000")
    ready = client.get("/health/ready", HTTP_HOST="127.0.0.1:8000")
    page = client.get("/accounts/login/", HTTP_HOST="aircop.example.org")

    # then the health paths answer while every other page still redirects to HTTPS
    assert (live.status_code, ready.status_code) == (200, 200)
    assert page.status_code == 301
    assert page["Location"].startswith("https://aircop.example.org/")
