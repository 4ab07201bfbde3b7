"""Attachments: accepted by content, refused with a field error naming the file, stored
encrypted (name and bytes), thumbnails without metadata, authorised and audited downloads."""

import io
import json
import zipfile

import pytest
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from accounts.models import AuditEvent
from aircop import crypto
from aircop.exceptions import DomainError
from messaging.models import Attachment, Message
from messaging.routing import Targets
from messaging.services import message_send

pytestmark = pytest.mark.django_db

CANARY = b"CANARY-attachment-plaintext-5f0c1e"
NAME_CANARY = "canary-secret-name"


@pytest.fixture(autouse=True)
def root(settings, tmp_path):
    settings.AIRCOP_ATTACHMENT_ROOT = tmp_path / "attachments"
    return settings.AIRCOP_ATTACHMENT_ROOT


def stored_files(root):
    return sorted(root.iterdir()) if root.exists() else []


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (1200, 800), "navy")
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (14.0, 44.0, 20.0)
    gps[3] = "W"
    gps[4] = (17.0, 29.0, 26.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the original has GPS
    return data


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (255, 0, 0, 128)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def docx() -> bytes:
    return zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def upload(name: str, data: bytes):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def send(ocu, files, to=("officer",)):
    return message_send(
        sender=ocu.user,
        operation=ocu.operation,
        subject="With files",
        body="See attached.",
        targets=Targets(users=to),
        attachments=files,
    )


def refused(ocu, root, files) -> DomainError:
    with pytest.raises(DomainError) as caught:
        send(ocu, files)
    assert caught.value.field == "attachments"
    assert Message.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(root) == []
    return caught.value


# --- accepted ------------------------------------------------------------------------------


def test_compose_form_sends_several_files(client, cocair, ocu, officer, root):
    client.force_login(ocu.user)
    response = client.post(
        "/o/cocair/compose/",
        {
            "subject": "Photos",
            "body": "Two files.",
            "officers": "on",
            "handling_code": "H0",
            "attachments": [upload("bag.jpg", jpeg_with_gps()), upload("note.txt", b"hello\n")],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    message = Message.objects.get()
    names = [(a.filename, a.content_type) for a in message.attachments.all()]
    assert names == [("bag.jpg", "image/jpeg"), ("note.txt", "text/plain")]
    page = client.get(f"/o/cocair/messages/{message.id}/")
    html = page.content.decode()
    assert 'type="file"' not in html
    assert "bag.jpg" in html and "/thumbnail/" in html


def test_form_shows_a_multiple_file_input_and_multipart_form(client, cocair, ocu):
    client.force_login(ocu.user)
    for url in ("/o/cocair/compose/", "/o/cocair/alerts/new/", "/o/cocair/seizures/new/"):
        html = client.get(url).content.decode()
        assert 'enctype="multipart/form-data"' in html
        assert 'type="file"' in html and "multiple" in html


def test_form_refusal_is_a_field_error_naming_the_file(client, cocair, ocu, officer, root):
    client.force_login(ocu.user)
    response = client.post(
        "/o/cocair/compose/",
        {
            "subject": "x",
            "body": "y",
            "officers": "on",
            "attachments": [upload("tool.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 64)],
        },
    )
    assert response.status_code == 400
    assert "tool.pdf" in str(response.context["form"].errors["attachments"])
    assert Message.objects.count() == 0 and stored_files(root) == []


def test_api_multipart_sends_several_files(client, cocair, ocu, officer, root):
    client.force_login(ocu.user)
    payload = {"kind": "free_text", "subject": "S", "body": "B", "to": {"users": ["officer"]}}
    response = client.post(
        "/api/v1/operations/cocair/messages/multipart",
        {
            "payload": json.dumps(payload),
            "files": [
                upload("report.pdf", pdf()),
                upload("a.docx", docx()),
                upload("p.png", png()),
            ],
        },
    )
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert [a.content_type for a in message.attachments.all()] == [
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/png",
    ]
    detail = client.get(f"/api/v1/messages/{message.id}").json()
    assert [a["filename"] for a in detail["attachments"]] == ["report.pdf", "a.docx", "p.png"]
    assert detail["attachments"][2]["thumbnail_url"]
    assert detail["attachments"][0]["thumbnail_url"] is None
    got = client.get(detail["attachments"][0]["url"])
    assert b"".join(got.streaming_content) == pdf()


def test_api_multipart_refusal_is_400_naming_the_field(client, cocair, ocu, officer, root):
    client.force_login(ocu.user)
    payload = {"kind": "free_text", "subject": "S", "body": "B", "to": {"users": ["officer"]}}
    response = client.post(
        "/api/v1/operations/cocair/messages/multipart",
        {"payload": json.dumps(payload), "files": [upload("x.zip", zipped({"a.txt": b"a"}))]},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "attachments"
    assert "x.zip" in response.json()["detail"]
    assert Message.objects.count() == 0 and stored_files(root) == []


def test_api_multipart_bad_payload_is_422(client, cocair, ocu):
    client.force_login(ocu.user)
    response = client.post(
        "/api/v1/operations/cocair/messages/multipart",
        {"payload": json.dumps({"kind": "free_text", "subject": "", "body": "B"})},
    )
    assert response.status_code == 422
    assert "subject" in [e["field"] for e in response.json()["errors"]]


# --- refused -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("run.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 64, "executable"),
        ("setup.exe", b"MZ\x90\x00" + b"\0" * 64, "executable"),
        ("app.doc", b"\xcf\xfa\xed\xfe" + b"\0" * 64, "executable"),
        ("run.txt", b"#!/bin/sh\nrm -rf /\n", "executable"),
        ("script.sh", b"echo hello\n", "extension_mismatch"),
        ("scan.jpg", pdf(), "extension_mismatch"),
        ("photo.pdf", png(), "extension_mismatch"),
        ("data.zip", zipped({"a.txt": b"a"}), "archive"),
        ("fake.docx", zipped({"a.txt": b"a"}), "archive"),
        ("x.rar", b"Rar!\x1a\x07\x00" + b"\0" * 64, "archive"),
        ("x.7z", b"7z\xbc\xaf\x27\x1c" + b"\0" * 64, "archive"),
        ("x.gz", b"\x1f\x8b\x08\x00" + b"\0" * 64, "archive"),
        ("blob.bin", b"\x00\x01\x02\xff\xfe", "type_not_allowed"),
    ],
)
def test_refused_content(cocair, ocu, officer, root, name, data, code):
    error = refused(ocu, root, [upload("fine.txt", b"ok"), upload(name, data)])
    assert error.code == code
    assert name in error.message


def test_tar_is_refused(cocair, ocu, officer, root):
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("a.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"a"))
    assert refused(ocu, root, [upload("x.txt", out.getvalue())]).code in (
        "archive",
        "type_not_allowed",
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("../etc/passwd.txt", "path_separator"),
        ("dir\\x.txt", "path_separator"),
        ("bell\x07.txt", "control_character"),
        ("evil\u202etxt.exe", "control_character"),
        ("", "empty_name"),
    ],
)
def test_refused_names(cocair, ocu, officer, root, name, code):
    assert refused(ocu, root, [File(io.BytesIO(b"hello"), name=name)]).code == code


def test_too_large_per_file(settings, cocair, ocu, officer, root):
    settings.AIRCOP_ATTACHMENT_MAX_BYTES = 10
    error = refused(ocu, root, [upload("big.txt", b"x" * 11)])
    assert error.code == "file_too_large" and "big.txt" in error.message


def test_too_large_per_message(settings, cocair, ocu, officer, root):
    settings.AIRCOP_ATTACHMENT_MAX_BYTES = 10
    settings.AIRCOP_MESSAGE_ATTACHMENTS_MAX_BYTES = 15
    error = refused(ocu, root, [upload("a.txt", b"x" * 8), upload("b.txt", b"x" * 8)])
    assert error.code == "attachments_too_large"


def test_failure_after_files_written_leaves_nothing(monkeypatch, cocair, ocu, officer, root):
    from messaging import services

    def fail(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "audit_record", fail)
    with pytest.raises(RuntimeError):
        send(ocu, [upload("a.txt", b"hello"), upload("b.jpg", jpeg_with_gps())])
    assert Message.objects.count() == 0 and Attachment.objects.count() == 0
    assert stored_files(root) == []


# --- stored encrypted, thumbnails --------------------------------------------------------


def test_file_and_name_are_encrypted_at_rest(cocair, ocu, officer, root):
    message = send(ocu, [upload(f"{NAME_CANARY}.txt", CANARY + b"\n")])
    files = stored_files(root)
    assert len(files) == 1
    assert CANARY not in files[0].read_bytes()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM messaging_attachment")
        rows = repr(cursor.fetchall())
    assert NAME_CANARY not in rows and CANARY.decode() not in rows
    attachment = Attachment.objects.get(message=message)
    assert attachment.filename == f"{NAME_CANARY}.txt"
    assert attachment.storage_name == files[0].name


def test_thumbnail_has_no_exif_and_is_small(client, cocair, ocu, officer, root):
    message = send(ocu, [upload("gps.jpg", jpeg_with_gps())])
    attachment = message.attachments.get()
    assert attachment.thumbnail_storage_name
    client.force_login(officer.user)
    response = client.get(
        f"/o/cocair/messages/{message.id}/attachments/{attachment.uid}/thumbnail/"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    thumbnail = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert not thumbnail.getexif()
    assert "exif" not in thumbnail.info
    assert max(thumbnail.size) <= 480


# --- downloads -----------------------------------------------------------------------------


def download_url(message, attachment, slug="cocair"):
    return f"/o/{slug}/messages/{message.id}/attachments/{attachment.uid}/"


@pytest.mark.parametrize("who", ["ocu", "officer"])
def test_sender_and_recipient_download_the_same_bytes(client, cocair, ocu, officer, root, who):
    data = jpeg_with_gps()
    message = send(ocu, [upload("évidence photo.jpg", data)])
    attachment = message.attachments.get()
    client.force_login({"ocu": ocu, "officer": officer}[who].user)
    response = client.get(download_url(message, attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%C3%A9vidence%20photo.jpg" in response["Content-Disposition"]
    event = AuditEvent.objects.get(action="attachment.downloaded")
    assert event.actor == {"ocu": ocu, "officer": officer}[who].user
    assert event.object_id == str(attachment.pk)


def test_api_download_by_recipient(client, cocair, ocu, officer, root):
    message = send(ocu, [upload("n.csv", b"a,b\n1,2\n")])
    attachment = message.attachments.get()
    assert attachment.content_type == "text/csv"
    client.force_login(officer.user)
    response = client.get(f"/api/v1/messages/{message.id}/attachments/{attachment.uid}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a,b\n1,2\n"
    assert response["Content-Disposition"].startswith("attachment;")
    assert AuditEvent.objects.filter(action="attachment.downloaded").count() == 1


def test_a_forward_carries_the_files_of_the_message_it_forwards(
    client, cocair, ocu, officer, colleague, root
):
    from messaging.services import message_forward

    # given a message with a file, sent to the officer only, and forwarded to a colleague
    data = pdf()
    message = send(ocu, [upload("manifest.pdf", data), upload("bag.png", png())])
    attachment = message.attachments.get(position=0)
    forward = message_forward(
        forwarder=officer.user, message=message, targets=Targets(users=["colleague"])
    )
    client.force_login(colleague.user)

    # then the colleague's page of the forward lists the files, linked through the forward
    page = client.get(f"/o/cocair/messages/{forward.id}/").content.decode()
    assert "manifest.pdf" in page and "bag.png" in page
    assert download_url(forward, attachment) in page
    response = client.get(download_url(forward, attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    # and so does the API's
    listed = client.get(f"/api/v1/messages/{forward.id}").json()["attachments"]
    assert [a["filename"] for a in listed] == ["manifest.pdf", "bag.png"]
    assert listed[0]["url"] == f"/api/v1/messages/{forward.id}/attachments/{attachment.uid}"
    assert listed[1]["thumbnail_url"].startswith(f"/api/v1/messages/{forward.id}/")
    assert b"".join(client.get(listed[0]["url"]).streaming_content) == data
    assert client.get(listed[1]["thumbnail_url"]).status_code == 200
    # but not through the original message, which is not theirs
    assert client.get(download_url(message, attachment)).status_code == 404
    downloads = AuditEvent.objects.filter(action="attachment.downloaded", actor=colleague.user)
    assert str(attachment.pk) in {event.object_id for event in downloads}


@pytest.mark.parametrize("who", ["colleague", "outsider"])
def test_others_get_404(client, cocair, ocu, officer, colleague, outsider, root, who):
    message = send(ocu, [upload("n.txt", b"secret")])
    attachment = message.attachments.get()
    client.force_login({"colleague": colleague, "outsider": outsider}[who].user)
    assert client.get(download_url(message, attachment)).status_code == 404
    assert client.get(download_url(message, attachment) + "thumbnail/").status_code == 404
    api = client.get(f"/api/v1/messages/{message.id}/attachments/{attachment.uid}")
    assert api.status_code == 404
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()


def test_inactive_member_gets_404(client, cocair, ocu, officer, root):
    message = send(ocu, [upload("n.txt", b"secret")])
    attachment = message.attachments.get()
    officer.active = False
    officer.save()
    client.force_login(officer.user)
    assert client.get(download_url(message, attachment)).status_code == 404


def test_tampered_file_fails_instead_of_giving_wrong_bytes(client, cocair, ocu, officer, root):
    message = send(ocu, [upload("n.txt", b"the original text\n")])
    attachment = message.attachments.get()
    path = root / attachment.storage_name
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    client.force_login(officer.user)
    with pytest.raises(crypto.DecryptionError):
        response = client.get(download_url(message, attachment))
        b"".join(response.streaming_content)


# --- seizure photos ------------------------------------------------------------------------


def test_seizure_page_shows_the_report_photos(client, cocair, ocu, officer, root):
    from datetime import UTC, datetime
    from decimal import Decimal

    from messaging.formatted import SeizureInput
    from seizures.models import Seizure

    message = message_send(
        sender=officer.user,
        operation=cocair,
        kind="seizure",
        details=SeizureInput(
            seized_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
            airport="DSS",
            commodity="cocaine",
            quantity=Decimal("2.5"),
            unit="kg",
            concealment="checked_baggage",
            detection="dog",
        ),
        attachments=[upload("bag.jpg", jpeg_with_gps()), upload("pv.pdf", pdf())],
    )
    seizure = Seizure.objects.get(message=message)
    client.force_login(officer.user)
    html = client.get(f"/seizures/{seizure.id}/").content.decode()
    photo = message.attachments.get(content_type="image/jpeg")
    assert f"/attachments/{photo.uid}/thumbnail/" in html
    assert "pv.pdf" not in html
