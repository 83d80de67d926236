"""Mastodon entity shapes (Account, Status, MediaAttachment, Notification, Relationship)
built from Parvis objects. Ids are strings and times ISO 8601, as Mastodon clients expect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parvis.accounts.models import User
from parvis.accounts.ranks import rank_for
from parvis.config import Settings
from parvis.social.graph import Relationship
from parvis.social.markup import plain_text
from parvis.social.models import Attachment, Notification
from parvis.social.views import PostView

NOTIFICATION_TYPES = {
    "reply": "mention",
    "vote": "favourite",
    "quote": "mention",
    "moderation": "moderation_warning",  # Mastodon 4.3's type for moderator actions
}


def iso(moment: datetime | None) -> str | None:
    """Mastodon's timestamp format."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def account(user: User, settings: Settings) -> dict[str, Any]:
    """The Account entity."""
    url = f"{settings.base_url}/@{user.username}"
    avatar = (
        f"{settings.base_url}/media/{user.avatar_path}"
        if user.avatar_path
        else (f"{settings.base_url}/static/avatar.png")
    )
    return {
        "id": str(user.id),
        "username": user.username,
        "acct": user.username,
        "display_name": user.display_name,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": iso(user.created_at.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": user.bio,
        "url": url,
        "uri": url,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": f"{settings.base_url}/static/header.png",
        "header_static": f"{settings.base_url}/static/header.png",
        "followers_count": user.followers_count,
        "following_count": user.following_count,
        "statuses_count": user.posts_count,
        "last_status_at": user.last_post_at.date().isoformat() if user.last_post_at else None,
        "emojis": [],
        "fields": [],
        "parvis": {"rank": rank_for(user).name, "role": user.role, "vote_score": user.vote_score},
    }


def media(attachment: Attachment, settings: Settings) -> dict[str, Any]:
    """The MediaAttachment entity (PDF documents are `unknown`, as Mastodon does for files)."""
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
        "type": "image" if attachment.kind == "image" else "unknown",
        "url": url,
        "preview_url": url if attachment.kind == "image" else None,
        "remote_url": None,
        "meta": meta,
        "description": attachment.description or None,
        "blurhash": None,
    }


def status(view: PostView, settings: Settings) -> dict[str, Any]:
    """The Status entity; a repost carries its original under `reblog`."""
    post = view.post
    url = f"{settings.base_url}/@{view.author.username}/{post.id}"
    if view.reblog is not None:
        original = status(view.reblog, settings)
        content, spoiler, sensitive = "", "", False
    else:
        original = None
        content, spoiler, sensitive = view.display_html, post.spoiler_text, post.sensitive
        if view.restriction is not None and view.restriction.interstitial:
            # Mastodon clients hide sensitive content behind its spoiler text: the same effect.
            sensitive = True
            spoiler = f"Warning under the rule '{view.restriction.rule_id}'" + (
                f": {spoiler}" if spoiler else ""
            )
        if post.kind == "article":
            content = f"<h2>{post.title}</h2>{content}" if post.title else content
    entity: dict[str, Any] = {
        "id": str(post.id),
        "uri": url,
        "url": url,
        "created_at": iso(post.created_at),
        "edited_at": iso(post.edited_at),
        "account": account(view.author, settings),
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
            "moderation": (
                {
                    "action": view.restriction.action,
                    "rule": view.restriction.rule_id,
                    "decision_id": str(view.restriction.decision_id),
                }
                if view.restriction
                else None
            ),
        },
    }
    return entity


def relationship(rel: Relationship) -> dict[str, Any]:
    """The Relationship entity."""
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
    row: Notification, actor: User, view: PostView | None, settings: Settings
) -> dict[str, Any]:
    """The Notification entity (Parvis's reply/quote map to mention, vote to favourite)."""
    return {
        "id": str(row.id),
        "type": NOTIFICATION_TYPES.get(row.kind, row.kind),
        "created_at": iso(row.created_at),
        "account": account(actor, settings),
        "status": status(view, settings) if view else None,
        "parvis": {"kind": row.kind, "read": row.read_at is not None},
    }


def plain(view: PostView) -> str:
    """A status's text without markup (for `source` and search snippets)."""
    return plain_text(view.post.body_html)
