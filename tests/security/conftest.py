"""The world the authorisation matrix runs in: an operation with an OCU, a national contact
and an officer, an Alert with an image attached, a seizure with a photo, an import job, a
ready export and an API token of the officer, a pending invitation; another operation with its
own member; an administrator who is a member of none."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import Invitation, Membership, Operation, Role, User
from accounts.services import api_token_create
from messaging.formatted import AlertInput, SeizureInput, SubjectInput
from messaging.models import Message
from messaging.routing import Targets
from messaging.services import message_send
from seizures.export_jobs import export_job_build, export_job_request
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
    photo_uid: str
    job_id: int
    export_uid: str
    token_id: int
    token_secret: str
    invitation_secret: str

    def managed_membership(self) -> Membership:
        """The member the administration routes act on (the national contact), a member
        again if an earlier persona removed them: each persona acts on a current member."""
        Membership.objects.filter(pk=self.contact.pk).update(active=True, left_at=None)
        return self.contact

    def kwargs(self, names, route: str = "") -> dict:
        """Values for the URL keyword arguments of a route (add a new argument here)."""
        if {"membership_id", "username"} & set(names):
            self.managed_membership()
        attachment = self.alert.attachments.get()
        uid = attachment.uid
        if "/photos/" in route:
            uid = self.photo_uid
        elif route.startswith(("exports/", "api/v1/exports/")):
            uid = self.export_uid
        values = {
            "slug": self.operation.slug,
            "message_id": self.alert.pk,
            "uid": uid,
            "seizure_id": self.seizure_id,
            "job_id": self.job_id,
            "token_id": self.token_id,
            "fmt": "csv",
            # operation administration
            "membership_id": self.contact.pk,
            "username": self.contact.user.username,
            "secret": self.invitation_secret,
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
    settings.AIRCOP_EXPORT_ROOT = tmp_path / "exports"
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
    seizure = seizure_create(
        reported_by=contact.user,
        operation=operation,
        data=seizure_input(),
        photos=[SimpleUploadedFile("seized.png", png_bytes(), content_type="image/png")],
    )
    export = export_job_request(user=officer.user, kind="results", fmt="csv", slug="cocair")
    export_job_build(job_id=export.pk)
    invitation_secret = "matrix-invitation-secret"
    Invitation.objects.create(
        operation=operation,
        email="invitee@example.org",
        full_name="Invited Officer",
        key_hash=hashlib.sha256(invitation_secret.encode()).hexdigest(),
        invited_by=ocu.user,
        expires_at=timezone.now() + timedelta(hours=72),
    )
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
        photo_uid=str(seizure.photos.get().uid),
        job_id=job.pk,
        export_uid=str(export.uid),
        token_id=token.pk,
        token_secret=secret,
        invitation_secret=invitation_secret,
    )
