"""Errors answer with the right status and the project's own pages, never a stack trace; the
API answers JSON, whatever DEBUG says; DEBUG is on only in the embedded default."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from tests.conftest import ROOT
from tests.factories import OperationFactory, member

pytestmark = pytest.mark.django_db


class Boom(RuntimeError):
    pass


def explode(**_kwargs):
    raise Boom("secret detail of the failure")


@pytest.fixture
def officer():
    return member(OperationFactory(slug="cocair"), Role.OFFICER, username="officer")


def test_unknown_page_answers_the_404_page(client, officer):
    client.force_login(officer.user)
    response = client.get("/o/cocair/messages/999999/")
    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    assert "This page does not exist, or you are not allowed to see it." in response.text


def test_forbidden_page_answers_the_403_page(client, officer):
    client.force_login(officer.user)  # an officer, not an OCU: no follow-up board
    response = client.get(reverse("messaging:followup", args=["cocair"]))
    assert response.status_code == 403
    assert response.templates[0].name == "403.html"


def test_form_without_csrf_token_answers_the_403_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:login"), {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert "Content-Security-Policy" in response


def test_unknown_host_answers_the_400_page(client):
    response = client.get(reverse("accounts:login"), HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "Bad request" in response.text
    assert "evil.example" not in response.text


def test_server_error_answers_the_500_page_without_details(client, officer, monkeypatch):
    monkeypatch.setattr("messaging.views.selectors.inbox_for", explode)
    client.force_login(officer.user)
    client.raise_request_exception = False
    response = client.get(reverse("messaging:inbox", args=["cocair"]))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "secret detail" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize("debug", [False, True])
def test_api_error_is_json_without_a_traceback_even_in_debug(
    client, officer, monkeypatch, settings, debug
):
    settings.DEBUG = debug
    monkeypatch.setattr("accounts.api.memberships_of", explode)
    client.force_login(officer.user)
    client.raise_request_exception = False
    response = client.get("/api/v1/operations")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert "secret detail" not in response.text and "Traceback" not in response.text


def settings_value(name: str, **env) -> str:
    """A setting as the settings module computes it from ``env`` alone."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AIRCOP_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", f"from aircop import settings; print(settings.{name})"],
        cwd=ROOT,
        env={**clean, "AIRCOP_MASTER_KEYS": os.environ["AIRCOP_MASTER_KEYS"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return (result.stdout + result.stderr).strip()


def test_debug_is_on_only_in_the_embedded_default():
    assert settings_value("DEBUG") == "True"
    assert settings_value("DEBUG", DATABASE_URL="postgres://u@db:5432/aircop") == "False"
    assert settings_value("DEBUG", REDIS_URL="redis://redis:6379/0") == "False"


def test_production_refuses_debug():
    out = settings_value(
        "DEBUG",
        AIRCOP_PRODUCTION="1",
        DJANGO_DEBUG="1",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="aircop.example.org",
    )
    assert "ImproperlyConfigured: DJANGO_DEBUG must be off" in out
