"""Instance discovery: /api/v1/instance and /api/v2/instance, with the counts NodeInfo shares.

Both entities follow docs.joinmastodon.org/entities/Instance (v2) and V1_Instance: the rules
are the rulebook's rules in force (Parvis rule ids), the counts are live, and Parvis's own
version sits under a `parvis` key next to the Mastodon version clients parse.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Depends
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session
from typing_extensions import TypedDict

from parvis import __version__
from parvis.accounts.models import User
from parvis.api.admin_entities import Rule, rule
from parvis.api.entities import Account
from parvis.moderation import publication
from parvis.runtime import Runtime, get_runtime
from parvis.storage.base import utcnow
from parvis.storage.database import Database

router = APIRouter(tags=["instance"])
# Clients parse the leading Mastodon version to decide which features to use.
COMPATIBLE_VERSION = f"4.2.0 (compatible; Parvis {__version__})"
MONTH = timedelta(days=30)
HALF_YEAR = timedelta(days=180)


@dataclass(frozen=True)
class Usage:
    """How many members and statuses the instance has, and how many members were active
    (signed in or posted) in the last 30 and 180 days."""

    users: int
    active_month: int
    active_half_year: int
    statuses: int


def _active_since(moment: datetime) -> ColumnElement[bool]:
    return or_(User.last_active_at >= moment, User.last_post_at >= moment)


USAGE_SECONDS = 60.0
_usage: WeakKeyDictionary[Database, tuple[float, Usage]] = WeakKeyDictionary()


def instance_usage(session: Session, database: Database) -> Usage:
    """The instance's counts, as /api/v1/instance, /api/v2/instance and NodeInfo show them.

    Every client asks for them at start and anyone may, so they are computed at most once a
    minute per process; statuses are the members' own counters summed, not a count of posts
    (which took 160 ms on a million posts: an easy way to load the server).
    """
    now = time.monotonic()
    known = _usage.get(database)
    if known is not None and known[0] > now:
        return known[1]
    moment = utcnow()
    count = func.count()
    users = session.scalar(select(count).select_from(User)) or 0
    month = session.scalar(select(count).select_from(User).where(_active_since(moment - MONTH)))
    half_year = session.scalar(
        select(count).select_from(User).where(_active_since(moment - HALF_YEAR))
    )
    statuses = session.scalar(select(func.coalesce(func.sum(User.posts_count), 0)))
    usage = Usage(users, month or 0, half_year or 0, int(statuses or 0))
    _usage[database] = (now + USAGE_SECONDS, usage)
    return usage


def rules_in_force(session: Session) -> list[Rule]:
    """The rulebook's rules in force as Mastodon Rule entities (none before publication)."""
    current = publication.in_force(session)
    return [rule(r) for r in current[1].rules] if current else []


class StatusesConfiguration(TypedDict):
    """Limits on authoring statuses."""

    max_characters: int
    max_media_attachments: int
    characters_reserved_per_url: int


class MediaConfiguration(TypedDict):
    """What uploads are accepted (Parvis takes images and PDF documents, no video)."""

    supported_mime_types: list[str]
    image_size_limit: int
    image_matrix_limit: int
    video_size_limit: int
    video_frame_rate_limit: int
    video_matrix_limit: int


class PollsConfiguration(TypedDict):
    """Poll limits: all zero, as Parvis refuses polls."""

    max_options: int
    max_characters_per_option: int
    min_expiration: int
    max_expiration: int


class AccountsConfiguration(TypedDict):
    """Limits on accounts."""

    max_featured_tags: int


class Configuration(TypedDict):
    """The v1 Instance's `configuration`."""

    accounts: AccountsConfiguration
    statuses: StatusesConfiguration
    media_attachments: MediaConfiguration
    polls: PollsConfiguration


class StreamingUrls(TypedDict):
    """v2 `configuration[urls]`."""

    streaming: str


class Translation(TypedDict):
    """v2 `configuration[translation]` (Parvis translates nothing)."""

    enabled: bool


class ConfigurationV2(Configuration):
    """The v2 Instance's `configuration`: v1's plus URLs and translation."""

    urls: StreamingUrls
    translation: Translation


class V1Urls(TypedDict):
    """The v1 Instance's `urls`."""

    streaming_api: str


class V1Stats(TypedDict):
    """The v1 Instance's `stats`."""

    user_count: int
    status_count: int
    domain_count: int


class InstanceExtras(TypedDict):
    """Parvis's own version."""

    version: str


class V1Instance(TypedDict):
    """Mastodon's V1::Instance entity."""

    uri: str
    title: str
    short_description: str
    description: str
    email: str
    version: str
    urls: V1Urls
    stats: V1Stats
    thumbnail: str | None
    languages: list[str]
    registrations: bool
    approval_required: bool
    invites_enabled: bool
    configuration: Configuration
    contact_account: Account | None
    rules: list[Rule]
    parvis: InstanceExtras


class UsageUsers(TypedDict):
    """v2 `usage[users]`."""

    active_month: int


class InstanceUsage(TypedDict):
    """v2 `usage`."""

    users: UsageUsers


class Thumbnail(TypedDict):
    """v2 `thumbnail`."""

    url: str


class Registrations(TypedDict):
    """v2 `registrations`."""

    enabled: bool
    approval_required: bool
    message: str | None


class Contact(TypedDict):
    """v2 `contact`."""

    email: str
    account: Account | None


class Instance(TypedDict):
    """Mastodon's (v2) Instance entity."""

    domain: str
    title: str
    version: str
    source_url: str
    description: str
    usage: InstanceUsage
    thumbnail: Thumbnail
    languages: list[str]
    configuration: ConfigurationV2
    registrations: Registrations
    contact: Contact
    rules: list[Rule]
    parvis: InstanceExtras


def _streaming_url(runtime: Runtime) -> str:
    return runtime.settings.base_url.replace("http", "ws", 1)


def _configuration(runtime: Runtime) -> Configuration:
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


@router.get("/api/v1/instance")
def instance_v1(runtime: Runtime = Depends(get_runtime)) -> V1Instance:
    """Mastodon's v1 Instance entity."""
    settings = runtime.settings
    with runtime.db.session() as session:
        usage = instance_usage(session, runtime.db)
        rules = rules_in_force(session)
    return {
        "uri": settings.domain,
        "title": settings.instance_name,
        "short_description": settings.instance_description,
        "description": settings.instance_description,
        "email": settings.contact_email,
        "version": COMPATIBLE_VERSION,
        "urls": {"streaming_api": _streaming_url(runtime)},
        "stats": {"user_count": usage.users, "status_count": usage.statuses, "domain_count": 1},
        "thumbnail": None,
        "languages": ["en"],
        "registrations": settings.registrations_open,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": _configuration(runtime),
        "contact_account": None,
        "rules": rules,
        "parvis": {"version": __version__},
    }


@router.get("/api/v2/instance")
def instance_v2(runtime: Runtime = Depends(get_runtime)) -> Instance:
    """Mastodon's v2 Instance entity."""
    settings = runtime.settings
    with runtime.db.session() as session:
        usage = instance_usage(session, runtime.db)
        rules = rules_in_force(session)
    return {
        "domain": settings.domain,
        "title": settings.instance_name,
        "version": COMPATIBLE_VERSION,
        "source_url": settings.instance_source_url,
        "description": settings.instance_description,
        "usage": {"users": {"active_month": usage.active_month}},
        "thumbnail": {"url": f"{settings.base_url}/static/avatar.png"},
        "languages": ["en"],
        "configuration": {
            **_configuration(runtime),
            "urls": {"streaming": _streaming_url(runtime)},
            "translation": {"enabled": False},
        },
        "registrations": {
            "enabled": settings.registrations_open,
            "approval_required": False,
            "message": None,
        },
        "contact": {"email": settings.contact_email, "account": None},
        "rules": rules,
        "parvis": {"version": __version__},
    }
