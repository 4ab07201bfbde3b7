"""A corpus of hostile uploads, each refused with a clear error naming the file, and nothing
stored (no message, no attachment row, no file on disk): through the compose page and through
the API's multipart endpoint."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from messaging.attachments import check_uploads
from messaging.models import Attachment, Message
from seizures.models import SeizurePhoto

pytestmark = pytest.mark.django_db


def png(size=(20, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, "PNG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8), 1).save(out, "GIF")
    return out.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def docx_bomb() -> bytes:
    """A well-formed .docx whose document inflates 1000-fold (64 MB of zeros)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\x00" * (1 << 20)
            for _ in range(64):
                member.write(block)
    return out.getvalue()


def pixel_flood() -> bytes:
    """A tiny valid PNG header declaring 100,000 × 100,000 pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


# name, bytes, the refusal's code, what the message says
CORPUS = {
    "oversize": ("big.txt", b"a" * 70_000, "file_too_large", "too large"),
    "gif_js_polyglot": (
        "cat.gif",
        b"GIF89a/*\x00\x00\x00\x00\x00\x00*/=1;alert(document.domain);//",
        "polyglot",
        "something else",
    ),
    "gif_with_script_appended": (
        "cat.gif",
        gif() + b"\n<script>alert(1)</script>",
        "polyglot",
        "something else",
    ),
    "pdf_zip_polyglot": (
        "report.pdf",
        pdf() + zipped({"payload.js": b"alert(1)"}),
        "polyglot",
        "something else",
    ),
    "executable_renamed_pdf": (
        "report.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64,
        "executable",
        "program",
    ),
    "elf_renamed_pdf": (
        "report.pdf",
        b"\x7fELF\x02\x01\x01" + b"\x00" * 64,
        "executable",
        "program",
    ),
    "script_renamed_txt": ("notes.txt", b"#!/bin/sh\nrm -rf /\n", "executable", "program"),
    "zip_bomb": ("minutes.docx", docx_bomb(), "zip_bomb", "inflate"),
    "path_traversal": ("..\\..\\windows\\evil.pdf", pdf(), "path_separator", "path"),
    "control_characters": ("invoice\u202efdp.exe.pdf", pdf(), "control_character", "control"),
    "bell_in_name": ("a\x07b.pdf", pdf(), "control_character", "control"),
    "pixel_flood": ("flood.png", pixel_flood(), "image_too_large", "pixels"),
    "broken_image": (
        "photo.png",
        png()[:60] + b"IEND\xaeB`\x82",
        "unreadable_image",
        "cannot be read",
    ),
}


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AIRCOP_ATTACHMENT_MAX_BYTES = 64 * 1024  # "oversize" is over it, the bomb is not


def assert_nothing_stored(world, messages_before: int) -> None:
    assert Message.objects.count() == messages_before
    assert Attachment.objects.count() == 1  # the world's own
    # The world's own files only: the Alert's attachment and the seizure's photo.
    own = [world.alert.attachments.get(), *SeizurePhoto.objects.all()]
    stored = sorted(p.name for p in root_dir(world).iterdir())
    expected = sorted(n for f in own for n in (f.storage_name, f.thumbnail_storage_name) if n)
    assert stored == expected, stored


def root_dir(world):
    from django.conf import settings

    return settings.AIRCOP_ATTACHMENT_ROOT


@pytest.mark.parametrize("case", CORPUS)
def test_the_check_refuses_it(case):
    name, data, code, _words = CORPUS[case]
    from aircop.exceptions import DomainError

    with pytest.raises(DomainError) as refused:
        check_uploads([SimpleUploadedFile(name, data)])
    assert refused.value.field == "attachments"
    assert refused.value.code == code


# Django's multipart parser keeps only the last component of a posted file name and drops
# characters that are not printable: through HTTP these names arrive cleaned ("evil.pdf",
# "invoicefdp.exe.pdf"), so they are refused by the check above, and cleaned below.
CLEANED_BY_DJANGO = {"path_traversal", "control_characters", "bell_in_name"}
THROUGH_HTTP = [c for c in CORPUS if c not in CLEANED_BY_DJANGO]


@pytest.mark.parametrize("case", sorted(CLEANED_BY_DJANGO))
def test_a_posted_name_arrives_without_path_or_control_characters(case, world):
    name, data, _code, _words = CORPUS[case]
    client = Client()
    client.force_login(world.ocu.user)
    response = client.post(
        reverse("messaging:compose", kwargs={"slug": world.operation.slug}),
        {
            "subject": "F",
            "body": "b",
            "officers": "on",
            "attachments": SimpleUploadedFile(name, data),
        },
    )
    assert response.status_code == 302
    stored = Attachment.objects.exclude(pk=world.alert.attachments.get().pk).get().filename
    assert "/" not in stored and "\\" not in stored
    assert stored.isprintable()


@pytest.mark.parametrize("case", THROUGH_HTTP)
def test_the_compose_page_refuses_it_and_stores_nothing(case, world):
    name, data, _code, words = CORPUS[case]
    before = Message.objects.count()
    client = Client()
    client.force_login(world.ocu.user)
    response = client.post(
        reverse("messaging:compose", kwargs={"slug": world.operation.slug}),
        {
            "subject": "Files",
            "body": "See attached.",
            "officers": "on",
            "attachments": SimpleUploadedFile(name, data),
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors.get("attachments", [])
    assert errors and words in errors[0], errors
    assert_nothing_stored(world, before)


@pytest.mark.parametrize("case", THROUGH_HTTP)
def test_the_api_refuses_it_and_stores_nothing(case, world):
    name, data, code, words = CORPUS[case]
    before = Message.objects.count()
    client = Client()
    response = client.post(
        f"/api/v1/operations/{world.operation.slug}/messages/multipart",
        {
            "payload": json.dumps(
                {"kind": "free_text", "subject": "Files", "body": "b", "to": {"officers": True}}
            ),
            "files": SimpleUploadedFile(name, data),
        },
        headers={"Authorization": f"Bearer {world_token(world)}"},
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == "attachments"
    assert body["code"] == code
    assert words in body["detail"]
    assert_nothing_stored(world, before)


def world_token(world) -> str:
    from accounts.services import api_token_create

    _token, secret = api_token_create(user=world.ocu.user, name="uploads")
    return secret
