"""Photos of seizures recorded in the register: added at entry (page and API) or by a
correction, refused when not a photo (nothing stored), stored encrypted, thumbnails without
metadata, downloads for whoever may see the seizure (audited), 404 for anyone else, and the
history of photos added and removed."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import AuditEvent, Role
from accounts.services import api_token_create
from aircop.exceptions import DomainError
from seizures.models import Seizure, SeizurePhoto, SeizureRevision
from seizures.services import seizure_correct, seizure_create
from tests.factories import OperationFactory, member
from tests.seizures.test_api import payload
from tests.seizures.test_register import (
    NEW,
    correction_form,
    detail_url,
    edit_url,
    entry_form,
    record,
    seizure_input,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cocair():
    return OperationFactory(slug="cocair", name="COCAIR VI")


@pytest.fixture
def ocu(cocair):
    return member(cocair, Role.OCU, "BE", "BRU", username="ocu")


@pytest.fixture
def officer(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="officer")


@pytest.fixture
def colleague(cocair):
    return member(cocair, Role.OFFICER, "SN", "DSS", username="colleague")


@pytest.fixture
def outsider():
    return member(OperationFactory(slug="elsewhere"), Role.OCU, "SN", "DSS", username="outsider")


CANARY = b"CANARY-seizure-photo-plaintext-77ab10"


@pytest.fixture(autouse=True)
def root(settings, tmp_path):
    settings.AIRCOP_ATTACHMENT_ROOT = tmp_path / "attachments"
    return settings.AIRCOP_ATTACHMENT_ROOT


def stored_files(root):
    return sorted(root.iterdir()) if root.exists() else []


def jpeg(colour="navy", gps=False) -> bytes:
    image = Image.new("RGB", (900, 600), colour)
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    if gps:
        exif.get_ifd(0x8825)[2] = (14.0, 44.0, 20.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=CANARY)
    return out.getvalue()


def upload(name: str, data: bytes):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def photo_url(photo, thumbnail=False):
    name = "seizures:photo_thumbnail" if thumbnail else "seizures:photo"
    return reverse(name, args=[photo.seizure_id, photo.uid])


def bearer(membership) -> dict:
    _token, secret = api_token_create(user=membership.user, name="t")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


# --- direct entry ----------------------------------------------------------------------------


def test_entry_page_records_a_seizure_with_photos(client, officer, root):
    client.force_login(officer.user)
    page = client.get(NEW).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page

    response = client.post(
        NEW, entry_form(photos=[upload("bag.jpg", jpeg()), upload("open.png", png())])
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    seizure = Seizure.objects.get()
    photos = list(seizure.photos.order_by("id"))
    assert [(p.filename, p.content_type) for p in photos] == [
        ("bag.jpg", "image/jpeg"),
        ("open.png", "image/png"),
    ]
    assert all(p.added_by == officer.user and p.has_thumbnail for p in photos)
    assert len(stored_files(root)) == 4  # two photos, two thumbnails
    event = AuditEvent.objects.get(action="seizure.recorded", object_id=str(seizure.pk))
    assert event.data["photos"] == [str(p.uid) for p in photos]
    html = client.get(detail_url(seizure)).content.decode()
    assert photo_url(photos[0], thumbnail=True) in html
    assert "bag.jpg" in html


def test_entry_page_refuses_a_file_that_is_not_a_photo(client, officer, root):
    client.force_login(officer.user)
    response = client.post(
        NEW, entry_form(photos=[upload("bag.jpg", jpeg()), upload("report.pdf", pdf())])
    )
    assert response.status_code == 400
    assert "“report.pdf” is not a photo" in response.content.decode()
    assert not Seizure.objects.exists()
    assert not SeizurePhoto.objects.exists()
    assert stored_files(root) == []


def test_api_multipart_records_a_seizure_with_photos(client, officer, root):
    response = client.post(
        "/api/v1/seizures/multipart",
        {"payload": json.dumps(payload()), "photos": [upload("bag.jpg", jpeg())]},
        **bearer(officer),
    )
    assert response.status_code == 201, response.content
    seizure = Seizure.objects.get(pk=response.json()["id"])
    assert seizure.quantity == 2.5
    detail = client.get(f"/api/v1/seizures/{seizure.id}", **bearer(officer)).json()
    [photo] = detail["photos"]
    assert photo["filename"] == "bag.jpg"
    assert photo["content_type"] == "image/jpeg"
    download = client.get(photo["url"], **bearer(officer))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == jpeg()
    assert client.get(photo["thumbnail_url"], **bearer(officer)).status_code == 200


def test_api_multipart_refuses_an_executable_naming_the_field(client, officer, root):
    response = client.post(
        "/api/v1/seizures/multipart",
        {"payload": json.dumps(payload()), "photos": [upload("x.jpg", b"\x7fELF\x02\x01\x01")]},
        **bearer(officer),
    )
    assert response.status_code == 400
    assert response.json()["field"] == "photos"
    assert "x.jpg" in response.json()["detail"]
    assert not Seizure.objects.exists()
    assert stored_files(root) == []


def test_api_multipart_bad_payload_names_the_field(client, officer, root):
    response = client.post(
        "/api/v1/seizures/multipart",
        {"payload": json.dumps(payload(quantity="-1")), "photos": [upload("a.jpg", jpeg())]},
        **bearer(officer),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "quantity"
    assert stored_files(root) == []


def test_failure_after_the_files_were_written_leaves_nothing(monkeypatch, officer, root):
    import seizures.services

    def fail(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(seizures.services, "audit_record", fail)
    with pytest.raises(RuntimeError):
        seizure_create(
            reported_by=officer.user,
            operation=officer.operation,
            data=seizure_input(),
            photos=[upload("bag.jpg", jpeg())],
        )
    assert not Seizure.objects.exists()
    assert stored_files(root) == []


# --- at rest ---------------------------------------------------------------------------------


def test_photo_bytes_and_name_are_encrypted_at_rest(officer, root):
    from django.db import connection

    seizure = seizure_create(
        reported_by=officer.user,
        operation=officer.operation,
        data=seizure_input(),
        photos=[upload("canary-secret-name.jpg", jpeg(gps=True))],
    )
    for path in stored_files(root):
        assert CANARY not in path.read_bytes()
    with connection.cursor() as cursor:
        cursor.execute("SELECT filename FROM seizures_seizurephoto")
        (stored_name,) = cursor.fetchone()
    assert "canary-secret-name" not in str(stored_name)
    assert seizure.photos.get().filename == "canary-secret-name.jpg"


def test_thumbnail_has_no_metadata(client, officer, root):
    seizure = record(officer)
    seizure_correct(
        user=officer.user,
        seizure=seizure,
        reason="Photos from the lab.",
        photos_added=[upload("bag.jpg", jpeg(gps=True))],
    )
    photo = seizure.photos.get()
    client.force_login(officer.user)
    response = client.get(photo_url(photo, thumbnail=True))
    data = b"".join(response.streaming_content)
    thumbnail = Image.open(io.BytesIO(data))
    assert thumbnail.format == "JPEG"
    assert max(thumbnail.size) <= 480
    assert not thumbnail.getexif()
    assert CANARY not in data


# --- downloads -------------------------------------------------------------------------------


def with_photo(membership):
    return seizure_create(
        reported_by=membership.user,
        operation=membership.operation,
        data=seizure_input(),
        photos=[upload("bag.jpg", jpeg())],
    )


def test_a_member_downloads_the_photo_as_an_attachment_and_it_is_audited(
    client, officer, colleague, root
):
    seizure = with_photo(officer)
    photo = seizure.photos.get()
    client.force_login(colleague.user)
    response = client.get(photo_url(photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "bag.jpg" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == jpeg()
    event = AuditEvent.objects.get(action="seizure.photo_downloaded")
    assert event.actor == colleague.user
    assert event.operation == officer.operation
    assert event.data == {"seizure": seizure.id, "thumbnail": False}


def test_a_non_member_gets_404_on_page_and_api(client, officer, outsider, root):
    photo = with_photo(officer).photos.get()
    client.force_login(outsider.user)
    assert client.get(photo_url(photo)).status_code == 404
    assert client.get(photo_url(photo, thumbnail=True)).status_code == 404
    api = f"/api/v1/seizures/{photo.seizure_id}/photos/{photo.uid}"
    assert client.get(api, **bearer(outsider)).status_code == 404
    assert not AuditEvent.objects.filter(action="seizure.photo_downloaded").exists()


def test_a_photo_of_a_seizure_outside_any_operation_is_for_its_reporter(
    client, officer, colleague, root
):
    seizure = seizure_create(
        reported_by=officer.user,
        operation=None,
        data=seizure_input(),
        photos=[upload("bag.jpg", jpeg())],
    )
    photo = seizure.photos.get()
    client.force_login(colleague.user)
    assert client.get(photo_url(photo)).status_code == 404
    client.force_login(officer.user)
    assert client.get(photo_url(photo)).status_code == 200


# --- corrections: added and removed, in the history --------------------------------------------


def test_reporter_adds_a_photo_by_correcting_and_the_history_shows_it(client, officer, root):
    seizure = record(officer)  # as an import or a direct entry without photos would
    client.force_login(officer.user)
    assert "#photos" in client.get(detail_url(seizure)).content.decode()
    response = client.post(
        edit_url(seizure),
        correction_form(
            seizure, reason="Photo from the lab.", photos=[upload("lab.jpg", jpeg("red"))]
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    photo = seizure.photos.get()
    revision = SeizureRevision.objects.get()
    assert revision.before == {"photos": []}
    assert revision.after == {"photos": [str(photo.uid)]}
    html = client.get(detail_url(seizure)).content.decode()
    assert photo_url(photo, thumbnail=True) in html
    assert "lab.jpg" in html  # in the photos and in the history


def test_ocu_removes_a_photo_its_files_go_and_the_history_names_it(
    client, officer, ocu, root, django_capture_on_commit_callbacks
):
    seizure = with_photo(officer)
    photo = seizure.photos.get()
    assert len(stored_files(root)) == 2
    client.force_login(ocu.user)
    page = client.get(edit_url(seizure)).content.decode()
    assert f'value="{photo.uid}"' in page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            edit_url(seizure),
            correction_form(seizure, reason="Wrong seizure.", photos_removed=[str(photo.uid)]),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(stored_files(root)) == 2  # until the removal commits
    for callback in callbacks:
        callback()
    photo.refresh_from_db()
    assert photo.removed_by == ocu.user
    assert stored_files(root) == []
    assert client.get(photo_url(photo)).status_code == 404
    revision = SeizureRevision.objects.get()
    assert revision.before == {"photos": [str(photo.uid)]}
    assert revision.after == {"photos": []}
    history = client.get(detail_url(seizure)).content.decode()
    assert "bag.jpg" in history


def test_another_officer_cannot_add_photos(officer, colleague, root):
    from django.core.exceptions import PermissionDenied

    seizure = record(officer)
    with pytest.raises(PermissionDenied):
        seizure_correct(
            user=colleague.user,
            seizure=seizure,
            reason="x",
            photos_added=[upload("bag.jpg", jpeg())],
        )
    assert stored_files(root) == []


def test_a_bad_photo_in_a_correction_changes_nothing(officer, root):
    seizure = with_photo(officer)
    photo = seizure.photos.get()
    with pytest.raises(DomainError) as caught:
        seizure_correct(
            user=officer.user,
            seizure=seizure,
            data=seizure_input(quantity=3),
            reason="More.",
            photos_added=[upload("notes.txt", b"hello\n")],
            photos_removed=[photo.uid],
        )
    assert caught.value.field == "photos"
    seizure.refresh_from_db()
    assert seizure.quantity == 2.5
    photo.refresh_from_db()
    assert photo.removed_at is None
    assert not SeizureRevision.objects.exists()
    assert len(stored_files(root)) == 2


def test_api_adds_and_removes_photos(client, officer, root):
    seizure = record(officer)
    added = client.post(
        f"/api/v1/seizures/{seizure.id}/photos",
        {"reason": "Lab photos.", "photos": [upload("a.jpg", jpeg()), upload("b.png", png())]},
        **bearer(officer),
    )
    assert added.status_code == 200, added.content
    photos = added.json()["photos"]
    assert [p["filename"] for p in photos] == ["a.jpg", "b.png"]
    removed = client.delete(
        f"/api/v1/seizures/{seizure.id}/photos/{photos[0]['uid']}?reason=Blurred.",
        **bearer(officer),
    )
    assert removed.status_code == 200, removed.content
    assert [p["filename"] for p in removed.json()["photos"]] == ["b.png"]
    history = removed.json()["revisions"]
    assert history[0]["after"] == {"photos": [photos[1]["uid"]]}
    unknown = client.delete(
        f"/api/v1/seizures/{seizure.id}/photos/{photos[0]['uid']}?reason=Again.",
        **bearer(officer),
    )
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "photos_removed"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 128)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
