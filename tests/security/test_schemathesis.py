"""Schemathesis against /api/v1/openapi.json, in-process (WSGI), as a member with a Bearer
token: for every operation, 25 generated requests (derandomised: the same ones on every run);
no 5xx, and every answer conforms to the document: a documented status code, the documented
content type, a body matching its schema, the documented headers. Path
parameters name the world's real objects (tests/security/conftest.py), so the generated queries
and bodies reach the endpoints' code."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


# What the document promises for any request. Not the acceptance checks: a rule of the domain
# may refuse a schema-valid request (a documented 400: "choose at least one recipient"), and
# pydantic's lax parsing accepts a few inputs the schema does not describe (a date given as a
# number of seconds).
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_database_open():
    """Django's handler closes the connection when a request ends (as the test client does,
    stop it: the test's transaction holds the world)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def path_values(world):
    attachment = world.alert.attachments.get()
    return {
        "slug": world.operation.slug,
        "message_id": world.alert.pk,
        "uid": str(attachment.uid),
        "seizure_id": world.seizure_id,
    }


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, world, path_values):
    if case.path_parameters:
        case.path_parameters = {
            name: path_values.get(name, value) for name, value in case.path_parameters.items()
        }
    case.call_and_validate(headers={"Authorization": f"Bearer {world.token_secret}"}, checks=CHECKS)


def _no_duplicate_keys(pairs):
    keys = [key for key, _value in pairs]
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
    return dict(pairs)


def test_the_document_has_one_key_per_status(client):
    """Swagger UI (/api/v1/docs) refuses a document with a key twice (an int 400 of an
    endpoint beside the "400" of the documented errors)."""
    import json

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    json.loads(response.content, object_pairs_hook=_no_duplicate_keys)
