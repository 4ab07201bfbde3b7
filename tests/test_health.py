"""/healthz: the probe of the container and the proxy, over plain HTTP on any host name."""

from __future__ import annotations

import pytest
from django.db import DatabaseError

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_transport(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["aircop.example.org"]


def test_probe_answers_over_plain_http_on_the_containers_address(client, production_transport):
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"
    # Every other path still goes to HTTPS and checks the host.
    assert client.get("/accounts/login/", HTTP_HOST="aircop.example.org").status_code == 301
    assert client.get("/accounts/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400


def test_probe_reports_an_unreachable_database(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("aircop.health.connection.cursor", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 503


def test_probe_accepts_only_reads(client):
    assert client.post("/healthz").status_code == 405
