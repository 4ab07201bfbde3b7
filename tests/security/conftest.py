"""The world the authorisation matrix runs in: an operation with an OCU, a national contact
and an officer, an Alert with an image attached, a seizure, an import job and an API token;
another operation with its own member; an administrator who is a member of none."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import Membership, Operation, Role, User
from accounts.services import api_token_create
from messaging.formatted import AlertInput, SeizureInput, SubjectInput
from messaging.models import Message
from messaging.routing import Targets
from messaging.services import message_send
from seizures.import_services import import_job_create
from seizures.services import seizure_create
from tests.factories import OperationFactory, UserFactory, member


def png_bytes(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, "PNG")
    return out.getvalue()


def seizure_input(**overrides) -> SeizureInput:
    values = {
        "seized_at": timezone.now() - timedelta(hours=2),
        "airport": "DSS",
        "commodity": "cocaine",
        "quantity": Decimal("2.5"),
        "unit": "kg",
        "concealment": "checked_baggage",
        "detection": "profiling",
        "departure": "GRU",
        "destination": "SN",
    }
    values.update(overrides)
    return SeizureInput(**values)


def alert_input() -> AlertInput:
    return AlertInput(
        flight_number="ET908",
        flight_date=timezone.localdate(),
        departure_airport="GRU",
        destination_airport="DSS",
        subjects=(SubjectInput(name="Jane Roe", nationality="NG"),),
    )


@dataclass
class World:
    operation: Operation
    other_operation: Operation
    ocu: Membership
    contact: Membership
    officer: Membership
    outsider: Membership
    staff: User
    alert: Message
    seizure_id: int
    job_id: int
    token_id: int
    token_secret: str

    def kwargs(self, names) -> dict:
        """Values for the URL keyword arguments of a route (add a new argument here)."""
        attachment = self.alert.attachments.get()
        values = {
            "slug": self.operation.slug,
            "message_id": self.alert.pk,
            "uid": attachment.uid,
            "seizure_id": self.seizure_id,
            "job_id": self.job_id,
            "token_id": self.token_id,
            "fmt": "csv",
            # the Django admin
            "app_label": "accounts",
            "object_id": self.operation.pk,
            "id": self.officer.user_id,
            "content_type_id": ContentType.objects.get_for_model(Operation).pk,
            "url": "no-such-page/",
        }
        missing = [n for n in names if n not in values]
        assert not missing, (
            f"no fixture value for URL argument(s) {missing}: add them to World.kwargs "
            "in tests/security/conftest.py"
        )
        return {n: values[n] for n in names}


# Query strings some routes need to do their work (keyed like routes.ROUTES).
QUERIES = {
    "admin/autocomplete/": {
        "app_label": "accounts",
        "model_name": "membership",
        "field_name": "user",
    },
}


@pytest.fixture
def world(settings, tmp_path) -> World:
    settings.AIRCOP_ATTACHMENT_ROOT = tmp_path / "attachments"
    operation = OperationFactory(slug="cocair", name="COCAIR VI")
    other = OperationFactory(slug="caribe", name="CARIBE")
    ocu = member(operation, Role.OCU, "BE", "BRU", username="ocu")
    contact = member(operation, Role.NATIONAL_CONTACT, "SN", "DSS", username="contact")
    officer = member(operation, Role.OFFICER, "SN", "DSS", username="officer")
    outsider = member(other, Role.OCU, "SN", "DSS", username="outsider")
    staff = UserFactory(username="admin", is_staff=True, is_superuser=True)
    alert = message_send(
        sender=ocu.user,
        operation=operation,
        kind="alert",
        subject="Control ET 908",
        body="Two passengers.",
        targets=Targets(officers=True, national_contacts=True),
        details=alert_input(),
        attachments=[SimpleUploadedFile("bag.png", png_bytes(), content_type="image/png")],
    )
    seizure = seizure_create(reported_by=contact.user, operation=operation, data=seizure_input())
    job = import_job_create(
        user=officer.user, operation=None, filename="s.csv", content=b"date,airport\n"
    )
    token, secret = api_token_create(user=officer.user, name="matrix")
    return World(
        operation=operation,
        other_operation=other,
        ocu=ocu,
        contact=contact,
        officer=officer,
        outsider=outsider,
        staff=staff,
        alert=alert,
        seizure_id=seizure.pk,
        job_id=job.pk,
        token_id=token.pk,
        token_secret=secret,
    )
