"""Media uploads: POST /api/v2/media (and v1), GET/PUT /api/v1/media/:id."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, UploadFile

from parvis.accounts.models import User
from parvis.api import entities
from parvis.api.auth import Caller, caller
from parvis.errors import NotFound
from parvis.runtime import Runtime, get_runtime
from parvis.social import media as media_service
from parvis.social.models import Attachment

router = APIRouter(prefix="/api", tags=["media"])


def _upload(who: Caller, runtime: Runtime, file: UploadFile, description: str) -> dict[str, Any]:
    user = who.member("write:media")
    with runtime.db.session() as session:
        attachment = media_service.store_upload(
            session,
            runtime.settings,
            session.get_one(User, user.id),
            filename=file.filename or "upload",
            data=file.file.read(),
            description=description,
        )
        return entities.media(attachment, runtime.settings)


@router.post("/v2/media")
def upload_v2(
    file: UploadFile = File(...),
    description: str = Form(""),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Upload an image (metadata stripped) or a PDF document."""
    return _upload(who, runtime, file, description)


@router.post("/v1/media")
def upload_v1(
    file: UploadFile = File(...),
    description: str = Form(""),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Upload an image or PDF (the older path)."""
    return _upload(who, runtime, file, description)


def _own(runtime: Runtime, user: User, media_id: str) -> Attachment:
    with runtime.db.session() as session:
        attachment = session.get(Attachment, int(media_id)) if media_id.isdigit() else None
        if attachment is None or attachment.owner_id != user.id:
            raise NotFound("Record not found")
        return attachment


@router.get("/v1/media/{media_id}")
def get_media(
    media_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, Any]:
    """One of the member's uploads."""
    return entities.media(_own(runtime, who.member("read:statuses"), media_id), runtime.settings)


@router.put("/v1/media/{media_id}")
def update_media(
    media_id: str,
    description: str = Form(""),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Change an upload's description (alt text)."""
    user = who.member("write:media")
    _own(runtime, user, media_id)
    with runtime.db.session() as session:
        attachment = session.get_one(Attachment, int(media_id))
        attachment.description = description.strip()[:1500]
        return entities.media(attachment, runtime.settings)
