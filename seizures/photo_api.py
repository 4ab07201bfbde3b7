"""API of a seizure's photos: add (multipart), remove, download. Adding or removing is a
correction (reporter, the operation's OCUs, administrators; a reason; kept in the history);
a download is for whoever may see the seizure, audited. Anyone else gets 404."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from aircop.api_auth import CORRECTS
from messaging.attachments import THUMBNAIL_CONTENT_TYPE, download_response

from . import photos as seizure_photos
from . import services
from .api import SeizureDetailOut, seizure_detail
from .selectors import photo_for, seizure_for

router = Router(tags=["seizures"])


@router.post(
    "/seizures/{int:seizure_id}/photos",
    response=SeizureDetailOut,
    summary="Add photos to a seizure (multipart/form-data; a correction)",
    auth=CORRECTS,
)
def photos_add(
    request,
    seizure_id: int,
    reason: Form[str],
    photos: File[list[UploadedFile]],
):
    """`photos`: image files (JPEG, PNG, GIF, WebP, HEIC, decided by their content),
    repeated; `reason`: why, kept in the seizure's history with the photos before and after."""
    seizure = seizure_for(user=request.auth, seizure_id=seizure_id)
    services.seizure_correct(user=request.auth, seizure=seizure, reason=reason, photos_added=photos)
    return seizure_detail(request, seizure_id)


@router.delete(
    "/seizures/{int:seizure_id}/photos/{uid}",
    response=SeizureDetailOut,
    summary="Remove a photo of a seizure (a correction)",
    auth=CORRECTS,
)
def photo_remove(request, seizure_id: int, uid: UUID, reason: Query[str]):
    """The photo's files are deleted; the history keeps its name and who removed it, when."""
    seizure = seizure_for(user=request.auth, seizure_id=seizure_id)
    services.seizure_correct(
        user=request.auth, seizure=seizure, reason=reason, photos_removed=[uid]
    )
    return seizure_detail(request, seizure_id)


@router.get(
    "/seizures/{int:seizure_id}/photos/{uid}",
    summary="Download a photo of a seizure (whoever may see the seizure; audited)",
    response={200: None},
    url_name="seizure_photo_download",
)
def photo_download(request, seizure_id: int, uid: UUID):
    photo = photo_for(user=request.auth, seizure_id=seizure_id, uid=uid)
    chunks = seizure_photos.photo_download(user=request.auth, photo=photo)
    return download_response(chunks, content_type=photo.content_type, filename=photo.filename)


@router.get(
    "/seizures/{int:seizure_id}/photos/{uid}/thumbnail",
    summary="The thumbnail of a seizure's photo (JPEG, no metadata)",
    response={200: None},
    url_name="seizure_photo_thumbnail",
)
def photo_thumbnail(request, seizure_id: int, uid: UUID):
    photo = photo_for(user=request.auth, seizure_id=seizure_id, uid=uid)
    if not photo.has_thumbnail:
        raise Http404
    chunks = seizure_photos.photo_download(user=request.auth, photo=photo, thumbnail=True)
    return download_response(chunks, content_type=THUMBNAIL_CONTENT_TYPE, filename=None)
