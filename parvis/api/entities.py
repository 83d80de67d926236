"""Mastodon entity shapes built from Parvis objects, as typed dictionaries.

Field names and types follow docs.joinmastodon.org/entities: ids are strings, times ISO 8601,
`emojis` is always a list. Parvis's own extras sit under a `parvis` key so clients that do not
know them ignore them. The TypedDicts double as response models, so the OpenAPI document shows
the shapes and mypy checks every builder.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from html import escape
from typing import Any, NotRequired

from typing_extensions import TypedDict

from parvis.accounts.models import User
from parvis.accounts.ranks import rank_for
from parvis.config import Settings
from parvis.social.graph import Relationship as GraphRelationship
from parvis.social.models import Notification as NotificationRow
from parvis.social.rows import AnyAttachment, AnyUser
from parvis.social.views import PostView

NOTIFICATION_TYPES = {
    "reply": "mention",
    "vote": "favourite",
    "quote": "mention",
    "moderation": "moderation_warning",  # Mastodon 4.3's type for moderator actions
}


class Error(TypedDict):
    """Mastodon's Error entity (`error_description` only on OAuth errors)."""

    error: str
    error_description: NotRequired[str]


class Token(TypedDict):
    """An OAuth access token, shown once."""

    access_token: str
    token_type: str
    scope: str
    created_at: int


class Application(TypedDict):
    """A registered client app; credentials only right after registration."""

    id: str
    name: str
    website: str | None
    scopes: list[str]
    redirect_uri: str
    redirect_uris: list[str]
    vapid_key: str
    client_id: NotRequired[str]
    client_secret: NotRequired[str]
    client_secret_expires_at: NotRequired[int]


class Field(TypedDict):
    """A profile metadata pair."""

    name: str
    value: str
    verified_at: str | None


class AccountExtras(TypedDict):
    """Parvis's additions to Account: rank, role and received vote score."""

    rank: str
    role: str
    vote_score: int


class Account(TypedDict):
    """Mastodon's Account entity."""

    id: str
    username: str
    acct: str
    display_name: str
    locked: bool
    bot: bool
    discoverable: bool | None
    noindex: bool | None
    group: bool
    created_at: str | None
    note: str
    url: str
    uri: str
    avatar: str
    avatar_static: str
    header: str
    header_static: str
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: str | None
    emojis: list[Any]
    fields: list[Field]
    parvis: AccountExtras
    # Mastodon's extra attribute, present only on an account suspended (or, in Parvis, also
    # terminated) by a decision in force: clients show the account as suspended.
    suspended: NotRequired[bool]


class Source(TypedDict):
    """The editable source values of one's own account."""

    note: str
    fields: list[Field]
    privacy: str
    sensitive: bool
    language: str
    follow_requests_count: int


class Role(TypedDict):
    """The Role entity of the signed-in member."""

    id: str
    name: str
    permissions: str
    color: str
    highlighted: bool


class CredentialAccount(Account):
    """Account plus `source` and `role`, returned to the member themself."""

    source: Source
    role: Role


class MediaAttachment(TypedDict):
    """Mastodon's MediaAttachment entity."""

    id: str
    type: str
    url: str
    preview_url: str | None
    remote_url: str | None
    meta: dict[str, Any]
    description: str | None
    blurhash: str | None


class Mention(TypedDict):
    """An account mentioned in a status."""

    id: str
    username: str
    acct: str
    url: str


class Tag(TypedDict):
    """A hashtag (in a status, or a search result with its `history`)."""

    name: str
    url: str
    history: NotRequired[list[Any]]


class Moderation(TypedDict):
    """The moderation decision currently restricting a status."""

    action: str
    rule: str
    decision_id: str


class StatusExtras(TypedDict):
    """Parvis's additions to Status: down-votes, quote, share count, article title."""

    kind: str
    title: str | None
    downvotes_count: int
    my_vote: int
    share_count: int
    quote: Status | None
    quote_unavailable: bool
    moderation: Moderation | None


class Status(TypedDict):
    """Mastodon's Status entity; `favourites_count` counts up-votes."""

    id: str
    uri: str
    url: str
    created_at: str | None
    edited_at: str | None
    account: Account
    content: str
    text: str | None
    visibility: str
    sensitive: bool
    spoiler_text: str
    media_attachments: list[MediaAttachment]
    application: None
    mentions: list[Mention]
    tags: list[Tag]
    emojis: list[Any]
    reblogs_count: int
    favourites_count: int
    replies_count: int
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    reblog: Status | None
    poll: None
    card: None
    language: str | None
    favourited: bool
    reblogged: bool
    muted: bool
    bookmarked: bool
    pinned: bool
    filtered: list[Any]
    parvis: StatusExtras


class StatusEdit(TypedDict):
    """One version of a status, in its edit history."""

    content: str
    spoiler_text: str
    sensitive: bool
    created_at: str | None
    account: Account
    media_attachments: list[MediaAttachment]
    emojis: list[Any]


class StatusSource(TypedDict):
    """The plain source of a status, for editing."""

    id: str
    text: str
    spoiler_text: str


class Context(TypedDict):
    """A status's ancestors and descendants."""

    ancestors: list[Status]
    descendants: list[Status]


class Relationship(TypedDict):
    """Mastodon's Relationship entity."""

    id: str
    following: bool
    showing_reblogs: bool
    notifying: bool
    languages: list[str] | None
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    requested: bool
    requested_by: bool
    domain_blocking: bool
    endorsed: bool
    note: str


class NotificationExtras(TypedDict):
    """Parvis's own notification kind and read state."""

    kind: str
    read: bool


class Notification(TypedDict):
    """Mastodon's Notification entity."""

    id: str
    type: str
    group_key: str
    created_at: str | None
    account: Account
    status: Status | None
    parvis: NotificationExtras


class Search(TypedDict):
    """Results of /api/v2/search."""

    accounts: list[Account]
    statuses: list[Status]
    hashtags: list[Tag]


_ISO_CACHE_SIZE = 32_768
_iso_texts: dict[datetime, str] = {}


def iso(moment: datetime | None) -> str | None:
    """Mastodon's timestamp format (millisecond precision, UTC). The same posts appear in many
    timelines, so their times are formatted once and remembered."""
    if moment is None:
        return None
    text = _iso_texts.get(moment)
    if text is None:
        if len(_iso_texts) >= _ISO_CACHE_SIZE:
            _iso_texts.clear()
        utc_moment = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
        # "+00:00" becomes "Z" (years 1000-9999).
        text = _iso_texts[moment] = utc_moment.isoformat(timespec="milliseconds")[:23] + "Z"
    return text


def note_html(bio: str) -> str:
    """A plain-text bio as the HTML Mastodon's `note` carries (escaped, one paragraph per block)."""
    blocks = [b.strip() for b in bio.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "".join(f"<p>{escape(b).replace(chr(10), '<br>')}</p>" for b in blocks)


# Accounts by everything they are built from: authors repeat across pages and requests. The
# rank also depends on today's date, so entries are dropped after a minute.
_ACCOUNT_TTL = 60.0
_ACCOUNTS_MAX = 4096
_accounts: dict[tuple[Any, ...], tuple[float, Account]] = {}


def account(user: AnyUser, settings: Settings) -> Account:
    """The Account entity (`created_at` at midnight, as Mastodon 3.4+ does). Built once per
    distinct state of the member within a minute; callers must not change what they get."""
    key = (
        settings.base_url,
        user.id,
        user.username,
        user.display_name,
        user.bio,
        user.avatar_path,
        user.role,
        user.created_at,
        user.followers_count,
        user.following_count,
        user.posts_count,
        user.vote_score,
        user.last_post_at,
    )
    now = time.monotonic()
    known = _accounts.get(key)
    if known is not None and known[0] > now:
        return known[1]
    if len(_accounts) >= _ACCOUNTS_MAX:
        _accounts.clear()
    built = _build_account(user, settings)
    _accounts[key] = (now + _ACCOUNT_TTL, built)
    return built


def marked_suspended(entity: Account) -> Account:
    """A copy of an Account entity marked `suspended` (the cached original is left alone)."""
    marked = entity.copy()
    marked["suspended"] = True
    return marked


def _build_account(user: AnyUser, settings: Settings) -> Account:
    url = f"{settings.base_url}/@{user.username}"
    avatar = (
        f"{settings.base_url}/media/{user.avatar_path}"
        if user.avatar_path
        else f"{settings.base_url}/static/avatar.png"
    )
    header = f"{settings.base_url}/static/header.png"
    return {
        "id": str(user.id),
        "username": user.username,
        "acct": user.username,
        "display_name": user.display_name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "noindex": False,
        "group": False,
        "created_at": iso(user.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": note_html(user.bio),
        "url": url,
        "uri": url,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": user.followers_count,
        "following_count": user.following_count,
        "statuses_count": user.posts_count,
        "last_status_at": user.last_post_at.date().isoformat() if user.last_post_at else None,
        "emojis": [],
        "fields": [],
        "parvis": {"rank": rank_for(user).name, "role": user.role, "vote_score": user.vote_score},
    }


def credential_account(user: User, settings: Settings) -> CredentialAccount:
    """The signed-in member's own Account, with `source` (plain bio) and `role`."""
    base = account(user, settings)
    return {
        **base,
        "source": {
            "note": user.bio,
            "fields": [],
            "privacy": "public",
            "sensitive": False,
            "language": "",
            "follow_requests_count": 0,
        },
        "role": {
            "id": user.role,
            "name": user.role if user.is_moderator else "",
            "permissions": "0",
            "color": "",
            "highlighted": user.is_moderator,
        },
    }


def media(attachment: AnyAttachment, settings: Settings) -> MediaAttachment:
    """The MediaAttachment entity: images and live-room recordings keep their Mastodon types
    (`image`, `audio`); PDF documents are `unknown`, as Mastodon does for other files."""
    url = f"{settings.base_url}/media/{attachment.storage_key}"
    meta: dict[str, Any] = {}
    if attachment.width and attachment.height:
        size = {
            "width": attachment.width,
            "height": attachment.height,
            "size": f"{attachment.width}x{attachment.height}",
            "aspect": round(attachment.width / attachment.height, 4),
        }
        meta = {"original": size, "small": size}
    return {
        "id": str(attachment.id),
        "type": attachment.kind if attachment.kind in ("image", "audio") else "unknown",
        "url": url,
        "preview_url": url if attachment.kind == "image" else None,
        "remote_url": None,
        "meta": meta,
        "description": attachment.description or None,
        "blurhash": None,
    }


def _moderation(view: PostView) -> Moderation | None:
    if view.restriction is None:
        return None
    return {
        "action": view.restriction.action,
        "rule": view.restriction.rule_id,
        "decision_id": str(view.restriction.decision_id),
    }


def status(
    view: PostView, settings: Settings, accounts: dict[int, Account] | None = None
) -> Status:
    """The Status entity; a repost carries its original under `reblog`. A page of statuses
    passes one `accounts` dict so each author's Account is built once per page."""
    post = view.post
    url = f"{settings.base_url}/@{view.author.username}/{post.id}"
    if accounts is None:
        accounts = {}
    author = accounts.get(view.author.id)
    if author is None:
        author = accounts[view.author.id] = account(view.author, settings)
    original: Status | None = None
    if view.reblog is not None:
        original = status(view.reblog, settings, accounts)
        content, spoiler, sensitive = "", "", False
    else:
        content, spoiler, sensitive = view.display_html, post.spoiler_text, post.sensitive
        if view.restriction is not None and view.restriction.interstitial:
            # Mastodon clients hide sensitive content behind its spoiler text: the same effect.
            sensitive = True
            spoiler = f"Warning under the rule '{view.restriction.rule_id}'" + (
                f": {spoiler}" if spoiler else ""
            )
        if post.kind == "article" and post.title:
            content = f"<h2>{escape(post.title)}</h2>{content}"
    return {
        "id": str(post.id),
        "uri": url,
        "url": url,
        "created_at": iso(post.created_at),
        "edited_at": iso(post.edited_at),
        "account": author,
        "content": content,
        "text": None,
        "visibility": post.visibility,
        "sensitive": sensitive,
        "spoiler_text": spoiler,
        "media_attachments": [media(a, settings) for a in view.attachments],
        "application": None,
        "mentions": [
            {
                "id": str(u.id),
                "username": u.username,
                "acct": u.username,
                "url": f"{settings.base_url}/@{u.username}",
            }
            for u in view.mentions
        ],
        "tags": [{"name": t, "url": f"{settings.base_url}/tags/{t}"} for t in view.tags],
        "emojis": [],
        "reblogs_count": post.reblogs_count,
        "favourites_count": post.upvotes,
        "replies_count": post.replies_count,
        "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
        "in_reply_to_account_id": (
            str(post.in_reply_to_account_id) if post.in_reply_to_account_id else None
        ),
        "reblog": original,
        "poll": None,
        "card": None,
        "language": post.language,
        "favourited": view.my_vote == 1,
        "reblogged": view.reblogged,
        "muted": False,
        "bookmarked": view.bookmarked,
        "pinned": False,
        "filtered": [],
        "parvis": {
            "kind": post.kind,
            "title": post.title or None,
            "downvotes_count": post.downvotes,
            "my_vote": view.my_vote,
            "share_count": post.share_count,
            "quote": status(view.quote, settings) if view.quote else None,
            "quote_unavailable": view.quote_unavailable,
            "moderation": _moderation(view),
        },
    }


def relationship(rel: GraphRelationship) -> Relationship:
    """The Relationship entity (no follow requests or notifying on Parvis)."""
    return {
        "id": str(rel.account_id),
        "following": rel.following,
        "showing_reblogs": rel.following,
        "notifying": False,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting,
        "requested": False,
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def notification(
    row: NotificationRow, actor: User, view: PostView | None, settings: Settings
) -> Notification:
    """The Notification entity (Parvis's reply/quote map to mention, vote to favourite)."""
    return {
        "id": str(row.id),
        "type": NOTIFICATION_TYPES.get(row.kind, row.kind),
        "group_key": f"ungrouped-{row.id}",
        "created_at": iso(row.created_at),
        "account": account(actor, settings),
        "status": status(view, settings) if view else None,
        "parvis": {"kind": row.kind, "read": row.read_at is not None},
    }


def tag(name: str, settings: Settings) -> Tag:
    """A hashtag search result."""
    return {"name": name, "url": f"{settings.base_url}/tags/{name}", "history": []}


def token(raw: str, scopes: str, created_at: int) -> Token:
    """The Token entity."""
    return {"access_token": raw, "token_type": "Bearer", "scope": scopes, "created_at": created_at}
