"""Photos of a seizure recorded in the register: checked, stored encrypted and read back by
the attachments' own code (``messaging.attachments``), with the same limits.

A photo is an image (JPEG, PNG, GIF, WebP, HEIC: decided by its content, like every
attachment); anything else is refused with a ``DomainError`` on the field ``photos``. The
services of ``seizures.services`` call these inside their transaction and remove the files
written when it fails; a removed photo's files are deleted once the removal has committed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from aircop.exceptions import DomainError
from messaging import attachments as stored_files
from messaging.attachments import CheckedUpload, Upload

from .models import Seizure, SeizurePhoto

FIELD = "photos"
MAX_PER_SEIZURE = 20


def photos_check(uploads: Sequence[Upload], *, already: int = 0) -> list[CheckedUpload]:
    """Check the files as attachments are checked, then that each is an image and that the
    seizure keeps at most ``MAX_PER_SEIZURE`` photos. Nothing is written."""
    uploads = list(uploads)
    if already + len(uploads) > MAX_PER_SEIZURE:
        raise DomainError(
            _("A seizure has at most %(limit)d photos.") % {"limit": MAX_PER_SEIZURE},
            field=FIELD,
            code="too_many_photos",
        )
    try:
        checked = stored_files.check_uploads(uploads)
    except DomainError as error:
        raise DomainError(error.message, field=FIELD, code=error.code) from None
    for upload in checked:
        if not upload.is_image:
            raise DomainError(
                _("“%(name)s” is not a photo (JPEG, PNG, GIF, WebP or HEIC images only).")
                % {"name": upload.filename},
                field=FIELD,
                code="not_a_photo",
            )
    return checked


def photos_store(
    *, seizure: Seizure, checked: Sequence[CheckedUpload], added_by: User, written: list[Path]
) -> list[SeizurePhoto]:
    """Encrypt each file (and its thumbnail, without metadata) to disk and save its row.
    Every path written is appended to ``written`` for the caller to remove on failure."""
    photos = []
    now = timezone.now()
    for upload in checked:
        photo = SeizurePhoto(
            seizure=seizure,
            filename=upload.filename,
            content_type=upload.content_type,
            added_by=added_by,
            created_at=now,
        )
        stored_files.store(photo, upload, written=written)
        photos.append(photo)
    SeizurePhoto.objects.bulk_create(photos)
    return photos


def photos_remove(*, seizure: Seizure, uids: Sequence, removed_by: User) -> list[SeizurePhoto]:
    """Mark photos of the seizure removed; their files are deleted after commit."""
    try:
        wanted = {UUID(str(uid)) for uid in uids}
    except ValueError:
        wanted = None
    photos = (
        []
        if not wanted
        else list(
            SeizurePhoto.objects.select_for_update().filter(
                seizure=seizure, removed_at__isnull=True, uid__in=wanted
            )
        )
    )
    if wanted is None or len(photos) != len(wanted):
        raise DomainError(
            _("No such photo on this seizure."), field="photos_removed", code="unknown_photo"
        )
    now = timezone.now()
    paths = []
    for photo in photos:
        photo.removed_at, photo.removed_by = now, removed_by
        paths.append(stored_files.root() / photo.storage_name)
        if photo.thumbnail_storage_name:
            paths.append(stored_files.root() / photo.thumbnail_storage_name)
    if photos:
        SeizurePhoto.objects.bulk_update(photos, ["removed_at", "removed_by"])
        transaction.on_commit(lambda: stored_files.remove(paths))
    return photos


def photo_download(*, user: User, photo: SeizurePhoto, thumbnail: bool = False) -> Iterator[bytes]:
    """The plaintext chunks of a photo (or its thumbnail) the user may see (see
    ``selectors.photo_for``); writes an audit row. A file that fails authentication raises
    ``crypto.DecryptionError``, before or while streaming, never yields wrong bytes."""
    chunks = stored_files.open_plaintext(photo, thumbnail=thumbnail)
    with transaction.atomic():
        audit_record(
            actor=user,
            action="seizure.photo_downloaded",
            operation=photo.seizure.operation,
            target=photo,
            data={"seizure": photo.seizure_id, "thumbnail": thumbnail},
        )
    return chunks
