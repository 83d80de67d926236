"""Who up-voted or reposted a post (Mastodon's favourited_by / reblogged_by)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.social.models import Post, Vote


def upvoters(
    session: Session, post_id: int, *, max_id: int | None = None, limit: int = 40
) -> list[User]:
    """Members who up-voted the post, by account id, newest first (down-votes stay private)."""
    ids = select(Vote.user_id).where(Vote.post_id == post_id, Vote.value == 1)
    return _users(session, ids, max_id, limit)


def reposters(
    session: Session, post_id: int, *, max_id: int | None = None, limit: int = 40
) -> list[User]:
    """Members whose repost of the post stands, by account id, newest first."""
    ids = select(Post.author_id).where(Post.reblog_of_id == post_id, Post.deleted_at.is_(None))
    return _users(session, ids, max_id, limit)


def _users(session: Session, ids: Select[int], max_id: int | None, limit: int) -> list[User]:
    query = select(User).where(User.id.in_(ids))
    if max_id is not None:
        query = query.where(User.id < max_id)
    return list(session.scalars(query.order_by(User.id.desc()).limit(limit)))
