"""Attachments: what may be attached (decided by content), and their encrypted storage.

Checking (``check_uploads``)
    The type of a file is decided from its bytes, never from its name or the browser's
    content type: magic numbers (``filetype``) for images and PDF, the zip directory for
    office documents (OOXML ``[Content_Types].xml`` with ``word/``, ``xl/`` or ``ppt/``
    parts; OpenDocument ``mimetype``), the OLE header for legacy Office files, and a text
    check (valid UTF-8 without NUL) for plain text and CSV. The name's extension must be
    one of the detected type's. Executables and scripts (ELF, PE, Mach-O, ``#!``), other
    archives, zip bombs, polyglots, images too large or unreadable (``hostile_files``),
    unknown content, unsafe names and files over the limits are refused with a
    ``DomainError`` naming the file (field ``attachments``).

Storage (``store``, ``open_plaintext``)
    Each file (and the thumbnail of an image) is encrypted with ``crypto.encrypt_stream``
    into ``AIRCOP_ATTACHMENT_ROOT/<random uuid>`` (mode 0600), bound to the identity of its
    record (``messaging.models.StoredFile.file_aad()``: ``messaging.attachment:<uid>:<message
    id>`` for an attachment, ``seizures.photo:<uid>:<seizure id>`` for a seizure's photo;
    ``...:thumbnail`` for the thumbnail). Thumbnails are re-encoded from the pixels only
    (max 480 px, JPEG): no EXIF, GPS or other metadata of the original survives.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import os
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from uuid import uuid4

import filetype
from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from aircop import crypto
from aircop.exceptions import DomainError

from . import hostile_files

FIELD = "attachments"
THUMBNAIL_MAX = 480
THUMBNAIL_CONTENT_TYPE = "image/jpeg"
_HEAD = 8192

OOXML = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
}
OPENDOCUMENT = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE_TYPES = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
# Detected by ``filetype``: content type → the extensions a name may have.
MAGIC_TYPES = {
    "image/jpeg": {"jpg", "jpeg", "jpe"},
    "image/png": {"png"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "image/heic": {"heic", "heif"},
    "application/pdf": {"pdf"},
}
TEXT_TYPES = {"txt": "text/plain", "text": "text/plain", "log": "text/plain", "csv": "text/csv"}
EXECUTABLE_MAGIC = (
    b"\x7fELF",
    b"MZ",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)


class Upload(Protocol):
    """What the checks need of an uploaded file (Django's ``UploadedFile`` or ``File``)."""

    name: str
    size: int

    def read(self, size: int = -1) -> bytes: ...

    def seek(self, offset: int, whence: int = 0) -> int: ...


@dataclass(frozen=True)
class CheckedUpload:
    upload: Upload
    filename: str
    content_type: str
    size: int

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def _refuse(message: str, code: str) -> DomainError:
    return DomainError(message, field=FIELD, code=code)


def _check_name(name: str | None) -> str:
    name = name or ""
    if not name.strip() or name.strip(". ") == "":
        raise _refuse(_("A file has no name."), "empty_name")
    if "/" in name or "\\" in name:
        raise _refuse(
            _("“%(name)s”: a file name cannot contain a path separator.") % {"name": name},
            "path_separator",
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        shown = "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in name)
        raise _refuse(
            _("“%(name)s”: a file name cannot contain control characters.") % {"name": shown},
            "control_character",
        )
    if len(name) > 255:
        raise _refuse(_("A file name is too long (255 characters at most)."), "name_too_long")
    return name


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name.strip(".") else ""


def _is_utf8_text(upload: Upload) -> bool:
    upload.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := upload.read(crypto.DEFAULT_CHUNK_SIZE):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _zip_type(upload: Upload) -> tuple[str, set[str]] | str | None:
    """The content type and extensions of an office document in a zip, "zip_bomb", or None."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:  # type: ignore[arg-type]
            if hostile_files.inflates_too_much(archive):
                return "zip_bomb"
            names = archive.namelist()
            if "[Content_Types].xml" in names:
                for prefix, (content_type, ext) in OOXML.items():
                    if any(n.startswith(prefix) for n in names):
                        return content_type, {ext}
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                ext = OPENDOCUMENT.get(archive.read("mimetype").strip())
                if ext:
                    return f"application/vnd.oasis.opendocument.{_od_kind(ext)}", {ext}
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None
    return None


def _od_kind(ext: str) -> str:
    return {"odt": "text", "ods": "spreadsheet", "odp": "presentation"}[ext]


def _detect(upload: Upload, head: bytes, ext: str) -> tuple[str, set[str]] | str:
    """(content type, allowed extensions) of the content, or a refusal code."""
    if head.startswith(EXECUTABLE_MAGIC):
        return "executable"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_type(upload) or "archive"
    if head.startswith(OLE_MAGIC):
        return (OLE_TYPES[ext], {ext}) if ext in OLE_TYPES else (OLE_TYPES["doc"], set(OLE_TYPES))
    kind = filetype.guess(head) if head else None
    if kind is not None:
        if kind.mime in MAGIC_TYPES:
            return kind.mime, MAGIC_TYPES[kind.mime]
        if kind.mime in ("image/heif",):
            return "image/heic", MAGIC_TYPES["image/heic"]
        if filetype.is_archive(head):
            return "archive"
        return "not_allowed"
    if _is_utf8_text(upload):
        return TEXT_TYPES.get(ext, "text/plain"), set(TEXT_TYPES)
    return "not_allowed"


def _check_image(upload: Upload, name: str) -> None:
    problem = hostile_files.image_problem(upload)
    if problem == "image_too_large":
        raise _refuse(
            _("“%(name)s” declares more pixels than an image may have (%(limit)d million).")
            % {"name": name, "limit": hostile_files.MAX_IMAGE_PIXELS // 1_000_000},
            problem,
        )
    if problem is not None:
        raise _refuse(_("“%(name)s” cannot be read as an image.") % {"name": name}, problem)


def _check_content(upload: Upload, name: str) -> str:
    upload.seek(0)
    head = upload.read(_HEAD)
    ext = _extension(name)
    found = _detect(upload, head, ext)
    upload.seek(0)
    if found == "zip_bomb":
        raise _refuse(
            _("“%(name)s” would inflate to far more than its size: it cannot be attached.")
            % {"name": name},
            "zip_bomb",
        )
    if found == "executable":
        raise _refuse(
            _("“%(name)s” is a program or a script: it cannot be attached.") % {"name": name},
            "executable",
        )
    if found == "archive":
        raise _refuse(
            _("“%(name)s” is an archive: attach the files it contains instead.") % {"name": name},
            "archive",
        )
    if found == "not_allowed":
        raise _refuse(
            _(
                "“%(name)s”: this type of file cannot be attached (images, PDF, office "
                "documents, plain text and CSV can)."
            )
            % {"name": name},
            "type_not_allowed",
        )
    content_type, extensions = found
    if ext not in extensions:
        raise _refuse(
            _("“%(name)s”: its name does not match its content (%(type)s).")
            % {"name": name, "type": content_type},
            "extension_mismatch",
        )
    if hostile_files.is_polyglot(upload, content_type):
        raise _refuse(
            _("“%(name)s” is also something else (an archive or a script hidden in it).")
            % {"name": name},
            "polyglot",
        )
    upload.seek(0)
    if content_type in hostile_files.DECODED_IMAGES:
        _check_image(upload, name)
    return content_type


def check_uploads(uploads: Sequence[Upload]) -> list[CheckedUpload]:
    """Check every file (name, size, content) and the total; refuse on the first fault."""
    per_file = settings.AIRCOP_ATTACHMENT_MAX_BYTES
    per_message = settings.AIRCOP_MESSAGE_ATTACHMENTS_MAX_BYTES
    checked, total = [], 0
    for upload in uploads:
        name = _check_name(getattr(upload, "name", ""))
        size = upload.size
        if size is None or size > per_file:
            raise _refuse(
                _("“%(name)s” is too large (%(limit)d MB at most per file).")
                % {"name": name, "limit": per_file // (1024 * 1024) or 1},
                "file_too_large",
            )
        total += size
        if total > per_message:
            raise _refuse(
                _("The attached files are too large together (%(limit)d MB at most).")
                % {"limit": per_message // (1024 * 1024) or 1},
                "attachments_too_large",
            )
        checked.append(CheckedUpload(upload, name, _check_content(upload, name), size))
    return checked


# --- storage -------------------------------------------------------------------------------


def root() -> Path:
    return Path(settings.AIRCOP_ATTACHMENT_ROOT)


def file_aad(stored) -> bytes:
    """The associated data of a stored file: its record's identity (``StoredFile.file_aad``)."""
    return stored.file_aad()


def thumbnail_aad(attachment) -> bytes:
    return file_aad(attachment) + b":thumbnail"


class _HashingReader:
    """Reads from ``src`` while hashing and counting what was read."""

    def __init__(self, src: BinaryIO | Upload) -> None:
        self.src = src
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.src.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _write_encrypted(src, *, aad: bytes, written: list[Path]) -> tuple[str, int, str]:
    """Encrypt ``src`` into a new file of the root; (storage name, size, sha256)."""
    directory = root()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = uuid4().hex
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    written.append(path)
    reader = _HashingReader(src)
    with os.fdopen(fd, "wb") as dst:
        crypto.encrypt_stream(reader, dst, aad=aad, chunk_size=crypto.DEFAULT_CHUNK_SIZE)
        dst.flush()
        os.fsync(dst.fileno())
    return name, reader.size, reader.digest.hexdigest()


def thumbnail_bytes(upload: Upload) -> bytes | None:
    """A JPEG of at most 480 px made from the pixels only, or None if not decodable."""
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:  # type: ignore[arg-type]
                image.draft("RGB", (THUMBNAIL_MAX, THUMBNAIL_MAX))
                image = ImageOps.exif_transpose(image)
                image.thumbnail((THUMBNAIL_MAX, THUMBNAIL_MAX))
                if image.mode in ("RGBA", "LA", "P", "PA"):
                    image = image.convert("RGBA")
                    background = Image.new("RGB", image.size, "white")
                    background.paste(image, mask=image.getchannel("A"))
                    image = background
                else:
                    image = image.convert("RGB")
                # A new image from the raw pixels: no info, EXIF, GPS, ICC or comment.
                clean = Image.frombytes("RGB", image.size, image.tobytes())
                out = io.BytesIO()
                clean.save(out, "JPEG", quality=85)
                return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        return None
    finally:
        upload.seek(0)


def store(attachment, checked: CheckedUpload, *, written: list[Path]) -> None:
    """Encrypt the file (and its thumbnail) to disk; fill the attachment's storage fields.

    Every path written is appended to ``written`` so that the caller removes them if the
    transaction does not commit."""
    checked.upload.seek(0)
    name, size, digest = _write_encrypted(checked.upload, aad=file_aad(attachment), written=written)
    if size != checked.size:
        raise _refuse(
            _("“%(name)s” changed while it was stored.") % {"name": checked.filename},
            "size_mismatch",
        )
    attachment.storage_name, attachment.size, attachment.sha256 = name, size, digest
    attachment.thumbnail_storage_name = None
    if checked.is_image:
        thumbnail = thumbnail_bytes(checked.upload)
        if thumbnail is not None:
            attachment.thumbnail_storage_name, _size, _digest = _write_encrypted(
                io.BytesIO(thumbnail), aad=thumbnail_aad(attachment), written=written
            )


def remove(paths: Sequence[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def rewrap(stored) -> int:
    """Re-wrap the data keys of a stored file and its thumbnail under the newest master key
    (key rotation): each file still under an older key is copied with a new header and the same
    chunks (``crypto.rewrap_stream_header``, which checks the binding first), synced, then
    renamed over the old one, so a reader sees the old file or the new one, whole. Returns how
    many files changed; ``FileNotFoundError`` for a missing one."""
    changed = 0
    for name, aad in (
        (stored.storage_name, file_aad(stored)),
        (stored.thumbnail_storage_name, thumbnail_aad(stored)),
    ):
        if not name:
            continue
        path = root() / name
        with path.open("rb") as src:
            if not crypto.stream_needs_rewrap(src):
                continue
            src.seek(0)
            staged = path.with_name(f"{name}.rewrap")
            fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as dst:
                crypto.rewrap_stream_header(src, dst, aad=aad)
                dst.flush()
                os.fsync(dst.fileno())
        os.replace(staged, path)
        changed += 1
    return changed


def open_plaintext(attachment, *, thumbnail: bool = False) -> Iterator[bytes]:
    """The plaintext chunks of a stored file (or its thumbnail), for a streaming response.

    The header is checked now (``crypto.DecryptionError`` before anything is sent); each
    chunk is authenticated before it is yielded, and a tampered or truncated file raises
    while iterating: the response is then aborted, never completed with wrong bytes."""
    storage_name = attachment.thumbnail_storage_name if thumbnail else attachment.storage_name
    if not storage_name:
        raise FileNotFoundError(storage_name)
    aad = thumbnail_aad(attachment) if thumbnail else file_aad(attachment)
    handle = (root() / storage_name).open("rb")
    try:
        chunks = crypto.decrypt_stream_chunks(handle, aad=aad)
    except BaseException:
        handle.close()
        raise

    def stream() -> Iterator[bytes]:
        with handle:
            yield from chunks

    return stream()


def download_response(chunks, *, content_type: str, filename: str | None) -> StreamingHttpResponse:
    """A download: the stored type, never sniffed, never run by the browser. ``filename``
    None: inline (a thumbnail)."""
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    if filename is not None:
        response["Content-Disposition"] = content_disposition_header(True, filename)
    else:
        response["Content-Disposition"] = "inline"
    return response
