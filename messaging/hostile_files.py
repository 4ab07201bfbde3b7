"""Files that hide something, for the attachment checks (``messaging/attachments.py``).

A zip bomb (an office document that inflates far beyond its size), a polyglot (a file that is
also another: a zip directory inside a PDF or an image, bytes appended after an image's
trailer), a pixel flood (an image header declaring billions of pixels, Pillow's
``DecompressionBombError``), an image that does not decode. Each function answers a question;
the refusal and its message belong to the caller.
"""

from __future__ import annotations

import warnings
import zipfile

from PIL import Image

MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100  # a member inflating more than this (and to over 1 MB) is a bomb
MAX_IMAGE_PIXELS = 50_000_000
# Formats that end with a fixed trailer: bytes after it are another file.
IMAGE_TRAILERS = {"image/png": b"IEND\xaeB`\x82", "image/gif": b";"}
DECODED_IMAGES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
ZIP_BY_DESIGN = ("application/vnd.openxmlformats", "application/vnd.oasis")
DRAFT_SIZE = (480, 480)


def inflates_too_much(archive: zipfile.ZipFile) -> bool:
    """True if the archive's members, as declared, inflate over 200 MB in all, or one of them
    over 1 MB and 100 times its compressed size."""
    members = archive.infolist()
    if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
        return True
    return any(
        m.file_size > 1024 * 1024 and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1)
        for m in members
    )


def is_polyglot(upload, content_type: str) -> bool:
    """True if a file of ``content_type`` is also another: a zip directory at its end (PDF/ZIP,
    JPEG/JAR; office documents excepted, they are zips), or bytes after a PNG's or GIF's
    trailer (a script appended to an image)."""
    if content_type.startswith(ZIP_BY_DESIGN):
        return False
    try:
        upload.seek(0)
        if zipfile.is_zipfile(upload):
            return True
        trailer = IMAGE_TRAILERS.get(content_type)
        if trailer is None:
            return False
        upload.seek(max(upload.size - len(trailer), 0))
        return upload.read(len(trailer)) != trailer
    finally:
        upload.seek(0)


def image_problem(upload) -> str | None:
    """None for an image of at most 50 million pixels that decodes; else "image_too_large" or
    "unreadable_image". Decoded at a reduced scale where the format allows it (JPEG)."""
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    return "image_too_large"
                image.draft("RGB", DRAFT_SIZE)
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "image_too_large"
    except (OSError, ValueError, SyntaxError, EOFError, Warning):
        return "unreadable_image"
    finally:
        upload.seek(0)
    return None
