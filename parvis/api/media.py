"""Media uploads: POST /api/v2/media (and v1), GET/PUT /api/v1/media/:id."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, UploadFile
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.api import entities
from parvis.api.auth import Caller, caller
from parvis.api.ids import parse_id
from parvis.api.params import Params, read_params
from parvis.errors import InvalidInput, NotFound
from parvis.runtime import Runtime, get_runtime
from parvis.social import media as media_service
from parvis.social.models import Attachment

router = APIRouter(prefix="/api", tags=["media"])


def _upload(
    who: Caller, runtime: Runtime, file: UploadFile, description: str
) -> entities.MediaAttachment:
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
) -> entities.MediaAttachment:
    """Upload an image (metadata stripped) or a PDF document."""
    return _upload(who, runtime, file, description)


@router.post("/v1/media")
def upload_v1(
    file: UploadFile = File(...),
    description: str = Form(""),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.MediaAttachment:
    """Upload an image or PDF (the older path)."""
    return _upload(who, runtime, file, description)


def _own(session: Session, user: User, media_id: str) -> Attachment:
    number = parse_id(media_id)
    attachment = session.get(Attachment, number) if number is not None else None
    if attachment is None or attachment.owner_id != user.id:
        raise NotFound("Record not found")
    return attachment


@router.get("/v1/media/{media_id}")
def get_media(
    media_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> entities.MediaAttachment:
    """One of the member's own uploads (Mastodon asks for write:media here too)."""
    user = who.member("write:media")
    with runtime.db.session() as session:
        return entities.media(_own(session, user, media_id), runtime.settings)


@router.put("/v1/media/{media_id}")
def update_media(
    media_id: str,
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.MediaAttachment:
    """Change an upload's description (alt text), at most 1,500 characters."""
    user = who.member("write:media")
    description = params.get("description").strip()
    if len(description) > 1500:
        raise InvalidInput("description: at most 1500 characters.", "description")
    with runtime.db.session() as session:
        attachment = _own(session, user, media_id)
        if params.has("description"):
            attachment.description = description
        return entities.media(attachment, runtime.settings)
