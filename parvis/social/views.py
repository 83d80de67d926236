"""Post views: a post with everything a page or API response shows about it, loaded in batches.

Both the HTML pages and the JSON API render from these, so what a viewer may see is decided
once, here and in `visibility`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from parvis.moderation.enforcement import (
    WITHDRAWN_ACTIONS_SQL,
    Restriction,
    blocked_links,
    disable_links,
    post_restrictions,
)
from parvis.social.feeds import posts_by_id
from parvis.social.rows import AnyAttachment, AnyPost, AnyUser, AttachmentRow, UserRow
from parvis.social.visibility import Viewer, can_see_post
from parvis.storage.hot import HotSQL, Reader


@dataclass
class PostView:
    """A post as one viewer sees it."""

    post: AnyPost
    author: AnyUser
    attachments: list[AnyAttachment] = field(default_factory=list)
    mentions: list[AnyUser] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # For a repost row: the original post's view. For a quote: the quoted post's view.
    reblog: PostView | None = None
    quote: PostView | None = None
    # True when the post quotes something this viewer may not see (deleted, blocked, muted).
    quote_unavailable: bool = False
    my_vote: int = 0
    reblogged: bool = False
    bookmarked: bool = False
    in_reply_to_author: AnyUser | None = None
    # A moderation restriction in force (label, interstitial, demotion, removal), if any.
    restriction: Restriction | None = None
    # Links in the post whose sharing a decision blocked: url -> (rule id, decision id).
    blocked_links: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def display_html(self) -> str:
        """The post's HTML with blocked links disabled (the text itself is kept)."""
        if not self.blocked_links:
            return self.post.body_html
        return disable_links(self.post.body_html, self.blocked_links)

    @property
    def shown(self) -> PostView:
        """The view whose content is displayed (the original for a repost)."""
        return self.reblog or self

    @property
    def deleted(self) -> bool:
        """True for a tombstone (deleted by its author)."""
        return self.post.deleted_at is not None

    @property
    def removed(self) -> bool:
        """True when a moderation decision removed the post (shown as a tombstone with the rule)."""
        return self.restriction is not None and self.restriction.removed


# Hand-written (see `storage.hot`): a page of posts is viewed on every feed request.
_REFERENCES = HotSQL(
    "SELECT 'l', post_id, url FROM post_links WHERE post_id IN LIST(:ids)"
    " UNION ALL SELECT 't', post_id, tag FROM post_tags WHERE post_id IN LIST(:ids)"
    " UNION ALL SELECT 'm', post_id, CAST(user_id AS VARCHAR(20)) FROM mentions"
    " WHERE post_id IN LIST(:ids)"
    # Authors a decision suspended or terminated: what quotes them shows it unavailable.
    " UNION ALL SELECT 'w', user_id, action FROM account_restrictions"
    f" WHERE user_id IN LIST(:authors) AND action IN {WITHDRAWN_ACTIONS_SQL}"
)
_USERS = HotSQL(f"SELECT {UserRow.COLUMNS} FROM users WHERE id IN LIST(:ids)")
_ATTACHMENTS = HotSQL(
    f"SELECT {AttachmentRow.COLUMNS} FROM attachments WHERE post_id IN LIST(:ids) ORDER BY id"
)
# The viewer's own votes, reposts and bookmarks on the page, in one round trip.
_MINE = HotSQL(
    "SELECT 'v', post_id, value FROM votes WHERE user_id = :me AND post_id IN LIST(:ids)"
    " UNION ALL SELECT 'r', reblog_of_id, 1 FROM posts"
    " WHERE author_id = :me AND reblog_of_id IN LIST(:ids) AND deleted_at IS NULL"
    " UNION ALL SELECT 'b', post_id, 1 FROM bookmarks WHERE user_id = :me AND post_id IN LIST(:ids)"
)


def build_views(db: Reader, viewer: Viewer, posts: Iterable[AnyPost]) -> list[PostView]:
    """Views for a list of posts in a fixed number of queries, whatever the list length."""
    posts = list(posts)
    if not posts:
        return []
    all_posts: dict[int, AnyPost] = {post.id: post for post in posts}
    # Level 1: originals of reposts; level 2: what those (and the posts) quote.
    missing = {p.reblog_of_id for p in posts if p.reblog_of_id is not None} - all_posts.keys()
    all_posts.update(posts_by_id(db, missing))
    quote_ids = {p.quote_of_id for p in list(all_posts.values()) if p.quote_of_id is not None}
    all_posts.update(posts_by_id(db, quote_ids - all_posts.keys()))
    ids = list(all_posts)
    restrictions = post_restrictions(db, ids)
    # Links, mentions and tags of the whole page in one round trip.
    post_links: dict[int, list[str]] = {}
    mentions: dict[int, list[int]] = {}
    tags: dict[int, list[str]] = {}
    user_ids = {p.author_id for p in all_posts.values()} | {
        p.in_reply_to_account_id for p in all_posts.values() if p.in_reply_to_account_id
    }
    withdrawn: set[int] = set()
    authors = list({p.author_id for p in all_posts.values()})
    for kind, post_id, value in _REFERENCES.rows(db, {"ids": ids, "authors": authors}):
        if kind == "w":
            withdrawn.add(post_id)  # a user id in this branch
        elif kind == "l":
            post_links.setdefault(post_id, []).append(value)
        elif kind == "t":
            tags.setdefault(post_id, []).append(value)
        else:
            mentions.setdefault(post_id, []).append(int(value))
            user_ids.add(int(value))
    blocked = blocked_links(db, {u for urls in post_links.values() for u in urls})
    users: dict[int, AnyUser] = {
        row[0]: UserRow.from_db(row) for row in _USERS.rows(db, {"ids": list(user_ids)})
    }
    attachments: dict[int, list[AnyAttachment]] = {}
    for row in _ATTACHMENTS.rows(db, {"ids": ids}):
        attachments.setdefault(row[2] or 0, []).append(AttachmentRow.from_db(row))
    votes: dict[int, int] = {}
    reblogged: set[int] = set()
    bookmarked: set[int] = set()
    if viewer.user_id is not None:
        for kind, post_id, value in _MINE.rows(db, {"me": viewer.user_id, "ids": ids}):
            if kind == "v":
                votes[post_id] = value
            elif kind == "r":
                reblogged.add(post_id)
            else:
                bookmarked.add(post_id)

    def view(post: AnyPost, depth: int = 0) -> PostView:
        result = PostView(
            post=post,
            author=users[post.author_id],
            attachments=attachments.get(post.id, []),
            mentions=[users[u] for u in mentions.get(post.id, []) if u in users],
            tags=tags.get(post.id, []),
            my_vote=votes.get(post.id, 0),
            reblogged=post.id in reblogged,
            bookmarked=post.id in bookmarked,
            in_reply_to_author=users.get(post.in_reply_to_account_id or 0),
            restriction=restrictions.get(post.id),
            blocked_links={u: blocked[u] for u in post_links.get(post.id, []) if u in blocked},
        )
        if post.reblog_of_id and post.reblog_of_id in all_posts:
            result.reblog = view(all_posts[post.reblog_of_id], depth)
        if post.quote_of_id and depth == 0:
            quoted = all_posts.get(post.quote_of_id)
            hidden = quoted is None or quoted.deleted_at is not None
            if (
                hidden
                or quoted is None
                or not can_see_post(viewer, quoted)
                or (quoted.id in restrictions and restrictions[quoted.id].removed)
                or quoted.author_id in withdrawn
            ):
                result.quote_unavailable = True
            else:
                result.quote = view(quoted, depth + 1)
        return result

    return [view(post) for post in posts]


def build_view(db: Reader, viewer: Viewer, post: AnyPost) -> PostView:
    """The view of a single post."""
    return build_views(db, viewer, [post])[0]
