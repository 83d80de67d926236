"""Search over posts (SQLite FTS5 or PostgreSQL full-text) and accounts."""

from __future__ import annotations

import re

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.moderation.enforcement import undiscoverable_post_ids, withdrawn_account_ids
from parvis.social.markup import plain_text
from parvis.social.models import Post, PostTag
from parvis.social.visibility import Viewer, can_see_post

MAX_QUERY_CHARS = 200


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def index_post(session: Session, post: Post) -> None:
    """Add or refresh a post in the full-text index (PostgreSQL indexes by itself)."""
    if not _is_sqlite(session):
        return
    session.execute(text("DELETE FROM posts_fts WHERE rowid = :id"), {"id": post.id})
    body = f"{post.title}\n{post.spoiler_text}\n{plain_text(post.body_html)}"
    session.execute(
        text("INSERT INTO posts_fts (rowid, text) VALUES (:id, :text)"),
        {"id": post.id, "text": body},
    )


def unindex_post(session: Session, post_id: int) -> None:
    """Remove a post from the full-text index."""
    if _is_sqlite(session):
        session.execute(text("DELETE FROM posts_fts WHERE rowid = :id"), {"id": post_id})


def _fts5_query(query: str) -> str:
    """Quote each word so member input can never be read as FTS5 syntax."""
    words = re.findall(r"\w+", query)
    return " ".join(f'"{word}"' for word in words[:20])


def _matching_ids(session: Session, query: str, limit: int, offset: int) -> list[int]:
    """Ids of posts matching the query, newest first (tags use the tag index)."""
    if query.startswith("#"):
        return list(
            session.scalars(
                select(PostTag.post_id)
                .where(PostTag.tag == query[1:].lower())
                .order_by(PostTag.post_id.desc())
                .limit(limit)
                .offset(offset)
            )
        )
    if _is_sqlite(session):
        match = _fts5_query(query)
        if not match:
            return []
        sql = (
            "SELECT rowid FROM posts_fts WHERE posts_fts MATCH :q "
            "ORDER BY rowid DESC LIMIT :limit OFFSET :offset"
        )
        params: dict[str, object] = {"q": match}
    else:
        sql = (
            "SELECT id FROM posts WHERE search_vector @@ websearch_to_tsquery('simple', :q) "
            "ORDER BY id DESC LIMIT :limit OFFSET :offset"
        )
        params = {"q": query}
    params.update(limit=limit, offset=offset)
    return [int(row[0]) for row in session.execute(text(sql), params)]


def search_posts(
    session: Session, viewer: Viewer, query: str, *, limit: int = 20, offset: int = 0
) -> list[Post]:
    """Posts matching every word of the query, newest first, as this viewer may see them."""
    query = query.strip()[:MAX_QUERY_CHARS]
    if not query:
        return []
    results: list[Post] = []
    batch = max(limit * 3, 30)
    position = offset
    while len(results) < limit:
        ids = _matching_ids(session, query, batch, position)
        if not ids:
            break
        position += len(ids)
        posts = session.scalars(
            select(Post)
            .where(
                Post.id.in_(ids),
                Post.deleted_at.is_(None),
                Post.id.not_in(undiscoverable_post_ids()),
                Post.author_id.not_in(withdrawn_account_ids()),
            )
            .order_by(Post.id.desc())
        ).all()
        for post in posts:
            if post.reblog_of_id is None and can_see_post(viewer, post):
                results.append(post)
                if len(results) == limit:
                    break
    return results


def search_accounts(
    session: Session, viewer: Viewer, query: str, *, limit: int = 20, offset: int = 0
) -> list[User]:
    """Accounts whose username or display name starts with (or contains) the query."""
    query = query.strip().lstrip("@")[:60]
    if not query:
        return []
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = session.scalars(
        select(User)
        .where(
            or_(
                User.username_key.like(f"{escaped}%", escape="\\"),
                User.display_name.ilike(f"%{escaped}%", escape="\\"),
            )
        )
        .order_by(User.followers_count.desc(), User.id)
        .limit(limit + len(viewer.blocked_ids))
        .offset(offset)
    ).all()
    return [user for user in rows if viewer.can_see_account(user.id)][:limit]
