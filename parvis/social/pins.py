"""Pinned posts: a member keeps up to five of their own posts at the top of their profile."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.errors import InvalidInput, NotFound
from parvis.social.models import Pin, Post

MAX_PINS = 5


def pin(session: Session, actor: User, post_id: int) -> Post:
    """Pin one's own post (idempotent); reposts and others' posts cannot be pinned."""
    post = session.get(Post, post_id)
    if post is None or post.deleted_at is not None:
        raise NotFound("Record not found")
    if post.author_id != actor.id:
        raise InvalidInput("You can only pin your own posts.")
    if post.reblog_of_id is not None:
        raise InvalidInput("A repost cannot be pinned; pin your own posts.")
    if session.get(Pin, (actor.id, post.id)) is not None:
        return post
    count = session.scalar(select(func.count()).select_from(Pin).where(Pin.user_id == actor.id))
    if (count or 0) >= MAX_PINS:
        raise InvalidInput(f"You can pin at most {MAX_PINS} posts; unpin one first.")
    session.add(Pin(user_id=actor.id, post_id=post.id))
    session.flush()
    return post


def unpin(session: Session, actor: User, post_id: int) -> Post:
    """Unpin a post (idempotent)."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("Record not found")
    session.execute(delete(Pin).where(Pin.user_id == actor.id, Pin.post_id == post.id))
    return post


def is_pinned(session: Session, user_id: int, post_id: int) -> bool:
    """True when the member pinned this post."""
    return session.get(Pin, (user_id, post_id)) is not None


def pinned_posts(session: Session, user_id: int) -> list[Post]:
    """A member's pinned posts (not deleted), most recently pinned first."""
    return list(
        session.scalars(
            select(Post)
            .join(Pin, Pin.post_id == Post.id)
            .where(Pin.user_id == user_id, Post.deleted_at.is_(None))
            .order_by(Pin.created_at.desc(), Pin.post_id.desc())
        )
    )
