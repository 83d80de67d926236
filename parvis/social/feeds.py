"""Feeds: home (followed accounts, newest first, nothing injected), public, profile, tag, thread.

All feeds are keyset-paginated by post id (`max_id`, `since_id`, `min_id`, as Mastodon does) and
filtered through the viewer's blocks, mutes and muted words.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from parvis.moderation.enforcement import (
    REMOVED_POSTS_SQL,
    UNDISCOVERABLE_POSTS_SQL,
    WITHDRAWN_AUTHORS_SQL,
    post_restrictions,
    withdrawn_account_ids,
)
from parvis.moderation.models import AccountRestriction
from parvis.social.models import Post, PostKind
from parvis.social.rows import PostRow
from parvis.social.visibility import Viewer, can_see_post
from parvis.storage.base import utcnow
from parvis.storage.hot import HotSQL, Reader, database_of, dialect_of

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


# "+column IS NULL": most posts are neither replies nor reposts, but the planner's statistics
# (an average number of rows per value) make "in_reply_to_id IS NULL" look selective, and it
# would walk that index through almost every post (a profile page: 320 ms on 1M posts instead
# of under 1 ms). The unary plus keeps such conditions off the index.
@dataclass(frozen=True)
class Feed:
    """Which posts a feed holds: a condition on `posts` in the neutral SQL of `storage.hot`
    and its parameters. `discovery` feeds (public, tags, articles) also leave out demoted
    posts; every feed leaves out removed ones."""

    where: str
    params: dict[str, Any]
    discovery: bool = False
    sqlite_index: str | None = None  # see `storage.hot` (SQLITE INDEX)


_MAX_STATEMENTS = 256
_statements: dict[str, HotSQL] = {}


def _statement(text: str) -> HotSQL:
    """The rendered statement for this text (a handful of feed shapes, rendered once each)."""
    found = _statements.get(text)
    if found is None:
        if len(_statements) >= _MAX_STATEMENTS:
            _statements.clear()
        found = _statements[text] = HotSQL(text)
    return found


def _page_sql(feed: Feed, page: PageQuery, hidden_authors: frozenset[int]) -> tuple[str, bool]:
    hidden = UNDISCOVERABLE_POSTS_SQL if feed.discovery else REMOVED_POSTS_SQL
    table = f"posts SQLITE INDEX({feed.sqlite_index})" if feed.sqlite_index else "posts"
    parts = [
        f"SELECT {PostRow.COLUMNS} FROM {table} WHERE {feed.where}",
        f"AND id NOT IN ({hidden}) AND author_id NOT IN ({WITHDRAWN_AUTHORS_SQL})",
    ]
    if hidden_authors:
        parts.append("AND author_id NOT IN LIST(:hidden_authors)")
    if page.max_id is not None:
        parts.append("AND id < :max_id")
    if page.since_id is not None:
        parts.append("AND id > :since_id")
    ascending = page.min_id is not None
    if ascending:
        # min_id asks for the posts right after it, oldest first, then shown newest first.
        parts.append("AND id > :min_id AND id > :after ORDER BY id ASC LIMIT :batch")
    else:
        parts.append("AND id < :before ORDER BY id DESC LIMIT :batch")
    return " ".join(parts), ascending


_NO_BOUND = 2**62


def _collect(
    db: Reader,
    viewer: Viewer,
    feed: Feed,
    page: PageQuery,
    keep: Callable[[PostRow], bool] | None = None,
) -> list[PostRow]:
    """Run a feed in rounds until the page is full of posts the viewer may see.

    Posts removed by a moderation decision never appear; discovery feeds also leave out
    demoted posts. Hidden (blocked, muted) authors are left out in SQL already.
    """
    page = page.clamped()
    text, ascending = _page_sql(feed, page, viewer.hidden_author_ids)
    statement = _statement(text)
    params: dict[str, Any] = {**feed.params, "max_id": page.max_id, "now": utcnow()}
    params.update(since_id=page.since_id, min_id=page.min_id)
    if viewer.hidden_author_ids:
        params["hidden_authors"] = sorted(viewer.hidden_author_ids)
    # Most rows pass the filters, so the first round asks for a few more than a page; later
    # rounds, needed only after heavy filtering, ask for more.
    batch = page.limit + 5
    results: list[PostRow] = []
    cursor = -1 if ascending else _NO_BOUND
    params = {name: value for name, value in params.items() if f":{name}" in statement.text}
    for _ in range(MAX_ROUNDS):
        bound = {**params, "batch": batch, ("after" if ascending else "before"): cursor}
        rows = [PostRow.from_db(row) for row in statement.rows(db, bound)]
        if not rows:
            break
        cursor = rows[-1].id
        originals = _originals(db, rows)
        removed_originals = (
            {
                post_id
                for post_id, restriction in post_restrictions(db, originals).items()
                if restriction.removed
            }
            if originals
            else set()
        )
        for post in rows:
            if post.reblog_of_id is not None and post.reblog_of_id not in originals:
                continue
            shown = originals[post.reblog_of_id] if post.reblog_of_id is not None else post
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


_POSTS_BY_ID = HotSQL(f"SELECT {PostRow.COLUMNS} FROM posts WHERE id IN LIST(:ids)")


def posts_by_id(db: Reader, ids: Iterable[int]) -> dict[int, PostRow]:
    """Posts by id, in one statement (missing ids are left out)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = _POSTS_BY_ID.rows(db, {"ids": wanted})
    return {post.id: post for post in map(PostRow.from_db, rows)}


# Reposted originals, without those of accounts a decision suspended or terminated: a repost
# whose original is not found here is left out of the feed (posts are never deleted as rows).
_SHOWN_ORIGINALS = HotSQL(
    f"SELECT {PostRow.COLUMNS} FROM posts WHERE id IN LIST(:ids)"
    f" AND author_id NOT IN ({WITHDRAWN_AUTHORS_SQL})"
)


def _originals(db: Reader, rows: list[PostRow]) -> dict[int, PostRow]:
    wanted = list({post.reblog_of_id for post in rows if post.reblog_of_id})
    if not wanted:
        return {}
    return {
        post.id: post for post in map(PostRow.from_db, _SHOWN_ORIGINALS.rows(db, {"ids": wanted}))
    }


_FOLLOWED = "SELECT followee_id FROM follows WHERE follower_id = :me"
# A correlated EXISTS, evaluated only for replies (most posts are not), rather than a second
# list of the followed accounts built for every page.
_REPLY_OK = (
    "(in_reply_to_account_id IS NULL OR in_reply_to_account_id = :me OR EXISTS (SELECT 1 FROM"
    " follows f WHERE f.follower_id = :me AND f.followee_id = posts.in_reply_to_account_id))"
)


def home(db: Reader, viewer: Viewer, page: PageQuery) -> list[PostRow]:
    """The followed accounts' posts and reposts plus one's own, newest first.

    Replies appear only when they answer the viewer or someone the viewer follows. Nothing is
    injected: no suggestions, no promoted posts, no ranking.
    """
    me = viewer.user_id
    assert me is not None
    # Dense follow graph on SQLite: walking the primary key backwards finds a page within a
    # few hundred rows; the unary plus stops SQLite from using the author index instead.
    author = "+author_id" if _is_sqlite(db) and _prefer_id_scan(db, me) else "author_id"
    where = f"deleted_at IS NULL AND {_REPLY_OK} AND ({author} IN ({_FOLLOWED}) OR {author} = :me)"
    return _collect(db, viewer, Feed(where, {"me": me}), page)


def _is_sqlite(db: Reader) -> bool:
    return dialect_of(db) == "sqlite"


_PLAN_SECONDS = 60.0
_PLAN_CACHE_SIZE = 10_000
_plan_cache: dict[tuple[str, int], tuple[float, bool]] = {}


def _prefer_id_scan(db: Reader, user_id: int) -> bool:
    """Pick the cheaper plan for the home feed on SQLite.

    Reading by author visits every post of every followed account (then sorts); scanning ids
    backwards visits about page_size * total / followed_posts rows. Choose the smaller. The
    choice only affects speed, never the result, so it is remembered per member for a minute.
    """
    key = (database_of(db), user_id)
    now = time.monotonic()
    known = _plan_cache.get(key)
    if known is not None and now - known[0] < _PLAN_SECONDS:
        return known[1]
    if len(_plan_cache) >= _PLAN_CACHE_SIZE:
        _plan_cache.clear()
    choice = _estimate_id_scan(db, user_id)
    _plan_cache[key] = (now, choice)
    return choice


_PLAN_FIGURES = HotSQL(
    "SELECT (SELECT coalesce(sum(posts_count), 0) FROM users"
    f" WHERE id IN ({_FOLLOWED}) OR id = :me), (SELECT coalesce(max(id), 0) FROM posts)"
)


def _estimate_id_scan(db: Reader, user_id: int) -> bool:
    followed_count, total_count = _PLAN_FIGURES.rows(db, {"me": user_id})[0]
    if not followed_count:
        return False
    return 40 * int(total_count) / int(followed_count) < int(followed_count)


def public(db: Reader, viewer: Viewer, page: PageQuery) -> list[PostRow]:
    """Every public top-level post on the instance, newest first (reposts left out)."""
    where = (
        "deleted_at IS NULL AND +reblog_of_id IS NULL AND +in_reply_to_id IS NULL"
        " AND visibility = 'public'"
    )
    return _collect(db, viewer, Feed(where, {}, discovery=True), page)


def profile(
    db: Reader,
    viewer: Viewer,
    author_id: int,
    page: PageQuery,
    *,
    include_replies: bool = False,
    include_reblogs: bool = True,
    only_articles: bool = False,
    only_media: bool = False,
) -> list[PostRow]:
    """A member's posts (and reposts), newest first; empty across a block."""
    if not viewer.can_see_account(author_id):
        return []
    where = ["author_id = :author AND deleted_at IS NULL"]
    if not include_replies:
        where.append("+in_reply_to_id IS NULL")
    if not include_reblogs:
        where.append("+reblog_of_id IS NULL")
    if only_articles:
        where.append(f"kind = '{PostKind.ARTICLE.value}'")
    if only_media:
        where.append("id IN (SELECT post_id FROM attachments WHERE post_id IS NOT NULL)")
    feed = Feed(" AND ".join(where), {"author": author_id})
    own_view = Viewer(user_id=viewer.user_id, blocked_ids=viewer.blocked_ids)
    # On a profile one asked to see, a mute of that very account does not hide it.
    return _collect(db, own_view if author_id in viewer.muted_ids else viewer, feed, page)


def tag(db: Reader, viewer: Viewer, name: str, page: PageQuery) -> list[PostRow]:
    """Public posts carrying a #tag, newest first."""
    where = (
        "id IN (SELECT post_id FROM post_tags WHERE tag = :tag) AND deleted_at IS NULL"
        " AND visibility = 'public'"
    )
    feed = Feed(where, {"tag": name.lower().lstrip("#")}, discovery=True)
    return _collect(db, viewer, feed, page)


def articles(db: Reader, viewer: Viewer, page: PageQuery) -> list[PostRow]:
    """Long-form articles, newest first."""
    where = f"kind = '{PostKind.ARTICLE.value}' AND deleted_at IS NULL AND visibility = 'public'"
    feed = Feed(where, {}, discovery=True, sqlite_index="ix_posts_kind_id")
    return _collect(db, viewer, feed, page)


def bookmarks(db: Reader, viewer: Viewer, page: PageQuery) -> list[PostRow]:
    """Posts the viewer bookmarked, newest post first."""
    assert viewer.user_id is not None
    where = "id IN (SELECT post_id FROM bookmarks WHERE user_id = :me) AND deleted_at IS NULL"
    return _collect(db, viewer, Feed(where, {"me": viewer.user_id}), page)


def favourites(db: Reader, viewer: Viewer, page: PageQuery) -> list[PostRow]:
    """Posts the viewer voted up (Mastodon's favourites), newest post first."""
    assert viewer.user_id is not None
    where = (
        "id IN (SELECT post_id FROM votes WHERE user_id = :me AND value = 1) AND deleted_at IS NULL"
    )
    return _collect(db, viewer, Feed(where, {"me": viewer.user_id}), page)


@dataclass
class Thread:
    """A post with the chain above it and the replies below it (depth-first tree order)."""

    ancestors: list[Post]
    post: Post
    descendants: list[tuple[Post, int]]  # (reply, depth below the focused post)


def thread(session: Session, viewer: Viewer, post: Post, *, max_replies: int = 500) -> Thread:
    """The conversation around a post as the viewer may see it.

    Deleted posts stay in the ancestor chain as tombstones so the thread keeps its shape; a
    hidden reply (blocked or muted, or by an account a decision suspended or terminated) hides
    its whole sub-tree.
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
    # Only the thread's own authors are asked about: an instance may hold many suspensions.
    withdrawn = set(
        session.scalars(
            withdrawn_account_ids().where(
                AccountRestriction.user_id.in_({row.author_id for row in rows})
            )
        )
    )

    def shown(row: Post) -> bool:
        return can_see_post(viewer, row) and row.author_id not in withdrawn

    by_id = {row.id: row for row in rows}
    ancestors: list[Post] = []
    cursor = post.in_reply_to_id
    while cursor is not None and cursor in by_id:
        parent = by_id[cursor]
        if parent.deleted_at is None and not shown(parent):
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
            if child.deleted_at is None and not shown(child):
                continue
            descendants.append((child, depth))
            walk(child.id, depth + 1)

    walk(post.id, 1)
    return Thread(ancestors=ancestors, post=post, descendants=descendants)
