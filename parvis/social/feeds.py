"""Feeds: home (followed accounts, newest first, nothing injected), public, profile, tag, thread.

All feeds are keyset-paginated by post id (`max_id`, `since_id`, `min_id`, as Mastodon does) and
filtered through the viewer's blocks, mutes and muted words.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Integer, Select, bindparam, func, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from parvis.accounts.models import User
from parvis.moderation.enforcement import (
    post_restrictions,
    removed_post_ids,
    undiscoverable_post_ids,
)
from parvis.social.models import Attachment, Follow, Post, PostKind, PostTag
from parvis.social.visibility import Viewer, can_see_post

MAX_LIMIT = 40
ROWS_PER_ROUND = 3  # fetch this many times the page size per round trip, to absorb filtering
MAX_ROUNDS = 8


@dataclass(frozen=True)
class PageQuery:
    """Keyset pagination, as Mastodon clients send it."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    def clamped(self) -> PageQuery:
        """The same query with the limit brought into 1..MAX_LIMIT."""
        return PageQuery(
            self.max_id, self.since_id, self.min_id, max(1, min(self.limit, MAX_LIMIT))
        )


def _paginate(query: Select[Post], page: PageQuery) -> tuple[Select[Post], bool]:
    if page.max_id is not None:
        query = query.where(Post.id < page.max_id)
    if page.since_id is not None:
        query = query.where(Post.id > page.since_id)
    if page.min_id is not None:
        # min_id asks for the posts right after it, oldest first, then shown newest first.
        return query.where(Post.id > page.min_id).order_by(Post.id.asc()), True
    return query.order_by(Post.id.desc()), False


def _collect(
    session: Session,
    viewer: Viewer,
    query: Select[Post],
    page: PageQuery,
    keep: Callable[[Post], bool] | None = None,
    *,
    discovery: bool = False,
) -> list[Post]:
    """Run a feed query in rounds until the page is full of posts the viewer may see.

    Posts removed by a moderation decision never appear; `discovery` feeds (public, tags,
    articles) also leave out demoted posts.
    """
    page = page.clamped()
    hidden = undiscoverable_post_ids() if discovery else removed_post_ids()
    query = query.where(Post.id.not_in(hidden))
    query, ascending = _paginate(query, page)
    # Most rows pass the filters (hidden authors are excluded in SQL), so the first round asks
    # for a few more than a page; later rounds, needed only after heavy filtering, ask for more.
    batch = page.limit + 5
    results: list[Post] = []
    last_id: int | None = None
    for _ in range(MAX_ROUNDS):
        round_query = query
        if last_id is not None:
            round_query = round_query.where(Post.id > last_id if ascending else Post.id < last_id)
        rows = list(session.scalars(round_query.limit(batch)))
        if not rows:
            break
        last_id = rows[-1].id
        originals = _originals(session, rows)
        removed_originals = (
            {
                post_id
                for post_id, restriction in post_restrictions(session, originals).items()
                if restriction.removed
            }
            if originals
            else set()
        )
        for post in rows:
            shown = (
                originals.get(post.reblog_of_id, post) if post.reblog_of_id is not None else post
            )
            if shown.deleted_at is not None or shown.id in removed_originals:
                continue
            if not can_see_post(viewer, post) or not can_see_post(viewer, shown):
                continue
            if keep is not None and not keep(post):
                continue
            results.append(post)
            if len(results) == page.limit:
                break
        if len(results) == page.limit or len(rows) < batch:
            break
        batch = page.limit * ROWS_PER_ROUND
    if ascending:
        results.reverse()
    return results


def _originals(session: Session, rows: list[Post]) -> dict[int, Post]:
    ids = {post.reblog_of_id for post in rows if post.reblog_of_id is not None}
    if not ids:
        return {}
    return {post.id: post for post in session.scalars(select(Post).where(Post.id.in_(ids)))}


def home(session: Session, viewer: Viewer, page: PageQuery) -> list[Post]:
    """The followed accounts' posts and reposts plus one's own, newest first.

    Replies appear only when they answer the viewer or someone the viewer follows. Nothing is
    injected: no suggestions, no promoted posts, no ranking.
    """
    me = viewer.user_id
    assert me is not None
    followed = select(Follow.followee_id).where(Follow.follower_id == me).scalar_subquery()
    reply_ok = or_(
        Post.in_reply_to_account_id.is_(None),
        Post.in_reply_to_account_id == me,
        Post.in_reply_to_account_id.in_(followed),
    )
    base = select(Post).where(Post.deleted_at.is_(None), reply_ok)
    if viewer.hidden_author_ids:
        base = base.where(Post.author_id.not_in(sorted(viewer.hidden_author_ids)))
    if session.get_bind().dialect.name == "sqlite" and _prefer_id_scan(session, me):
        # Dense follow graph: walking the primary key backwards finds a page within a few
        # hundred rows; the unary plus stops SQLite from using the author index instead.
        author: ColumnClause[int] = literal_column("+posts.author_id", Integer)
        base = base.where(or_(author.in_(followed), author == me))
    else:
        base = base.where(or_(Post.author_id.in_(followed), Post.author_id == me))
    return _collect(session, viewer, base, page)


_PLAN_SECONDS = 60.0
_PLAN_CACHE_SIZE = 10_000
_plan_cache: dict[tuple[str, int], tuple[float, bool]] = {}


def _prefer_id_scan(session: Session, user_id: int) -> bool:
    """Pick the cheaper plan for the home feed on SQLite.

    Reading by author visits every post of every followed account (then sorts); scanning ids
    backwards visits about page_size * total / followed_posts rows. Choose the smaller. The
    choice only affects speed, never the result, so it is remembered per member for a minute.
    """
    key = (str(session.get_bind().engine.url), user_id)
    now = time.monotonic()
    known = _plan_cache.get(key)
    if known is not None and now - known[0] < _PLAN_SECONDS:
        return known[1]
    if len(_plan_cache) >= _PLAN_CACHE_SIZE:
        _plan_cache.clear()
    choice = _estimate_id_scan(session, user_id)
    _plan_cache[key] = (now, choice)
    return choice


_FOLLOWED_BY_ME = (
    select(Follow.followee_id).where(Follow.follower_id == bindparam("me")).scalar_subquery()
)
_PLAN_FIGURES = select(
    select(func.coalesce(func.sum(User.posts_count), 0))
    .where(or_(User.id.in_(_FOLLOWED_BY_ME), User.id == bindparam("me")))
    .scalar_subquery(),
    select(func.coalesce(func.max(Post.id), 0)).scalar_subquery(),
)


def _estimate_id_scan(session: Session, user_id: int) -> bool:
    row = session.execute(_PLAN_FIGURES, {"me": user_id}).one()
    followed_count, total_count = int(row[0]), int(row[1])
    if followed_count == 0:
        return False
    return 40 * total_count / followed_count < followed_count


def public(session: Session, viewer: Viewer, page: PageQuery) -> list[Post]:
    """Every public top-level post on the instance, newest first (reposts left out)."""
    base = select(Post).where(
        Post.deleted_at.is_(None),
        Post.reblog_of_id.is_(None),
        Post.in_reply_to_id.is_(None),
        Post.visibility == "public",
    )
    return _collect(session, viewer, base, page, discovery=True)


def profile(
    session: Session,
    viewer: Viewer,
    author_id: int,
    page: PageQuery,
    *,
    include_replies: bool = False,
    include_reblogs: bool = True,
    only_articles: bool = False,
    only_media: bool = False,
) -> list[Post]:
    """A member's posts (and reposts), newest first; empty across a block."""
    if not viewer.can_see_account(author_id):
        return []
    base = select(Post).where(Post.author_id == author_id, Post.deleted_at.is_(None))
    if not include_replies:
        base = base.where(Post.in_reply_to_id.is_(None))
    if not include_reblogs:
        base = base.where(Post.reblog_of_id.is_(None))
    if only_articles:
        base = base.where(Post.kind == PostKind.ARTICLE.value)
    if only_media:
        with_media = select(Attachment.post_id).where(Attachment.post_id.is_not(None))
        base = base.where(Post.id.in_(with_media))
    own_view = Viewer(user_id=viewer.user_id, blocked_ids=viewer.blocked_ids)
    # On a profile one asked to see, a mute of that very account does not hide it.
    return _collect(session, own_view if author_id in viewer.muted_ids else viewer, base, page)


def tag(session: Session, viewer: Viewer, name: str, page: PageQuery) -> list[Post]:
    """Public posts carrying a #tag, newest first."""
    tagged = select(PostTag.post_id).where(PostTag.tag == name.lower().lstrip("#"))
    base = select(Post).where(
        Post.id.in_(tagged), Post.deleted_at.is_(None), Post.visibility == "public"
    )
    return _collect(session, viewer, base, page, discovery=True)


def articles(session: Session, viewer: Viewer, page: PageQuery) -> list[Post]:
    """Long-form articles, newest first."""
    base = select(Post).where(
        Post.kind == PostKind.ARTICLE.value, Post.deleted_at.is_(None), Post.visibility == "public"
    )
    return _collect(session, viewer, base, page, discovery=True)


def bookmarks(session: Session, viewer: Viewer, page: PageQuery) -> list[Post]:
    """Posts the viewer bookmarked, newest post first."""
    from parvis.social.models import Bookmark

    assert viewer.user_id is not None
    saved = select(Bookmark.post_id).where(Bookmark.user_id == viewer.user_id)
    base = select(Post).where(Post.id.in_(saved), Post.deleted_at.is_(None))
    return _collect(session, viewer, base, page)


@dataclass
class Thread:
    """A post with the chain above it and the replies below it (depth-first tree order)."""

    ancestors: list[Post]
    post: Post
    descendants: list[tuple[Post, int]]  # (reply, depth below the focused post)


def thread(session: Session, viewer: Viewer, post: Post, *, max_replies: int = 500) -> Thread:
    """The conversation around a post as the viewer may see it.

    Deleted posts stay in the ancestor chain as tombstones so the thread keeps its shape; a
    hidden (blocked or muted) reply hides its whole sub-tree.
    """
    root_id = post.thread_root_id or post.id
    rows = list(
        session.scalars(
            select(Post)
            .where(or_(Post.thread_root_id == root_id, Post.id == root_id))
            .order_by(Post.id)
            .limit(max_replies + 200)
        )
    )
    by_id = {row.id: row for row in rows}
    ancestors: list[Post] = []
    cursor = post.in_reply_to_id
    while cursor is not None and cursor in by_id:
        parent = by_id[cursor]
        if parent.deleted_at is None and not can_see_post(viewer, parent):
            break
        ancestors.append(parent)
        cursor = parent.in_reply_to_id
    ancestors.reverse()
    children: dict[int, list[Post]] = {}
    for row in rows:
        if row.in_reply_to_id is not None:
            children.setdefault(row.in_reply_to_id, []).append(row)
    descendants: list[tuple[Post, int]] = []

    def walk(parent_id: int, depth: int) -> None:
        for child in children.get(parent_id, []):
            if len(descendants) >= max_replies:
                return
            if child.deleted_at is not None and not children.get(child.id):
                continue
            if child.deleted_at is None and not can_see_post(viewer, child):
                continue
            descendants.append((child, depth))
            walk(child.id, depth + 1)

    walk(post.id, 1)
    return Thread(ancestors=ancestors, post=post, descendants=descendants)
