"""Instance discovery: /api/v1/instance and /api/v2/instance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from parvis import __version__
from parvis.accounts.models import User
from parvis.runtime import Runtime, get_runtime
from parvis.social.models import Post

router = APIRouter(tags=["instance"])
# Clients parse the leading Mastodon version to decide which features to use.
COMPATIBLE_VERSION = f"4.2.0 (compatible; Parvis {__version__})"


@router.get("/api/v1/instance")
def instance_v1(runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """Mastodon's v1 Instance entity."""
    settings = runtime.settings
    with runtime.db.session() as session:
        users = session.scalar(select(func.count()).select_from(User)) or 0
        statuses = (
            session.scalar(select(func.count()).select_from(Post).where(Post.deleted_at.is_(None)))
            or 0
        )
    return {
        "uri": settings.domain,
        "title": settings.instance_name,
        "short_description": settings.instance_description,
        "description": settings.instance_description,
        "email": settings.contact_email,
        "version": COMPATIBLE_VERSION,
        "urls": {"streaming_api": settings.base_url.replace("http", "ws", 1)},
        "stats": {"user_count": users, "status_count": statuses, "domain_count": 1},
        "thumbnail": None,
        "languages": ["en"],
        "registrations": settings.registrations_open,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": _configuration(runtime),
        "contact_account": None,
        "rules": [],
        "parvis": {"version": __version__},
    }


def _configuration(runtime: Runtime) -> dict[str, Any]:
    settings = runtime.settings
    return {
        "accounts": {"max_featured_tags": 0},
        "statuses": {
            "max_characters": settings.max_post_chars,
            "max_media_attachments": settings.max_attachments_per_post,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": [
                "image/jpeg",
                "image/png",
                "image/gif",
                "image/webp",
                "application/pdf",
            ],
            "image_size_limit": settings.max_image_bytes,
            "image_matrix_limit": settings.max_image_pixels,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 0,
            "max_expiration": 0,
        },
    }


@router.get("/api/v2/instance")
def instance_v2(runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """Mastodon's v2 Instance entity."""
    settings = runtime.settings
    return {
        "domain": settings.domain,
        "title": settings.instance_name,
        "version": COMPATIBLE_VERSION,
        "source_url": "https://parvis.invalid/source",
        "description": settings.instance_description,
        "usage": {"users": {"active_month": 0}},
        "thumbnail": {"url": f"{settings.base_url}/static/avatar.png"},
        "languages": ["en"],
        "configuration": {
            **_configuration(runtime),
            "urls": {"streaming": settings.base_url.replace("http", "ws", 1)},
        },
        "registrations": {
            "enabled": settings.registrations_open,
            "approval_required": False,
            "message": None,
        },
        "contact": {"email": settings.contact_email, "account": None},
        "rules": [],
        "parvis": {"version": __version__},
    }
