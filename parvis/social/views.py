"""Post views: a post with everything a page or API response shows about it, loaded in batches.

Both the HTML pages and the JSON API render from these, so what a viewer may see is decided
once, here and in `visibility`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import String, bindparam, cast, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from parvis.accounts.models import User
from parvis.moderation.enforcement import (
    Restriction,
    blocked_links,
    disable_links,
    post_restrictions,
)
from parvis.social.models import Attachment, Bookmark, Mention, Post, PostLink, PostTag, Vote
from parvis.social.visibility import Viewer, can_see_post


@dataclass
class PostView:
    """A post as one viewer sees it."""

    post: Post
    author: User
    attachments: list[Attachment] = field(default_factory=list)
    mentions: list[User] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # For a repost row: the original post's view. For a quote: the quoted post's view.
    reblog: PostView | None = None
    quote: PostView | None = None
    # True when the post quotes something this viewer may not see (deleted, blocked, muted).
    quote_unavailable: bool = False
    my_vote: int = 0
    reblogged: bool = False
    bookmarked: bool = False
    in_reply_to_author: User | None = None
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


# Built once: a page of posts is viewed on every feed request, and building a statement costs
# more than running it.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_REFERENCES = union_all(
    select(literal("l"), PostLink.post_id, PostLink.url).where(PostLink.post_id.in_(_IDS)),
    select(literal("t"), PostTag.post_id, PostTag.tag).where(PostTag.post_id.in_(_IDS)),
    select(literal("m"), Mention.post_id, cast(Mention.user_id, String)).where(
        Mention.post_id.in_(_IDS)
    ),
)
_USERS = select(User).where(User.id.in_(_IDS))
_ATTACHMENTS = select(Attachment).where(Attachment.post_id.in_(_IDS)).order_by(Attachment.id)
_MY_VOTES = select(Vote.post_id, Vote.value).where(
    Vote.user_id == bindparam("me"), Vote.post_id.in_(_IDS)
)
_MY_REBLOGS = select(Post.reblog_of_id).where(
    Post.author_id == bindparam("me"), Post.reblog_of_id.in_(_IDS), Post.deleted_at.is_(None)
)
_MY_BOOKMARKS = select(Bookmark.post_id).where(
    Bookmark.user_id == bindparam("me"), Bookmark.post_id.in_(_IDS)
)
_POSTS = select(Post).where(Post.id.in_(_IDS))


def build_views(session: Session, viewer: Viewer, posts: Iterable[Post]) -> list[PostView]:
    """Views for a list of posts in a fixed number of queries, whatever the list length."""
    posts = list(posts)
    if not posts:
        return []
    all_posts: dict[int, Post] = {post.id: post for post in posts}
    # Level 1: originals of reposts; level 2: what those (and the posts) quote.
    missing = {p.reblog_of_id for p in posts if p.reblog_of_id is not None} - all_posts.keys()
    _load_posts(session, missing, all_posts)
    quote_ids = {p.quote_of_id for p in list(all_posts.values()) if p.quote_of_id is not None}
    _load_posts(session, quote_ids - all_posts.keys(), all_posts)
    ids = list(all_posts)
    restrictions = post_restrictions(session, ids)
    # Links, mentions and tags of the whole page in one round trip.
    post_links: dict[int, list[str]] = {}
    mentions: dict[int, list[int]] = {}
    tags: dict[int, list[str]] = {}
    user_ids = {p.author_id for p in all_posts.values()} | {
        p.in_reply_to_account_id for p in all_posts.values() if p.in_reply_to_account_id
    }
    for kind, post_id, value in session.execute(_REFERENCES, {"ids": ids}):
        if kind == "l":
            post_links.setdefault(post_id, []).append(value)
        elif kind == "t":
            tags.setdefault(post_id, []).append(value)
        else:
            mentions.setdefault(post_id, []).append(int(value))
            user_ids.add(int(value))
    blocked = blocked_links(session, {u for urls in post_links.values() for u in urls})
    users = {u.id: u for u in session.scalars(_USERS, {"ids": list(user_ids)})}
    attachments: dict[int, list[Attachment]] = {}
    for attachment in session.scalars(_ATTACHMENTS, {"ids": ids}):
        attachments.setdefault(attachment.post_id or 0, []).append(attachment)
    votes: dict[int, int] = {}
    reblogged: set[int] = set()
    bookmarked: set[int] = set()
    if viewer.user_id is not None:
        mine = {"me": viewer.user_id, "ids": ids}
        votes = {row[0]: row[1] for row in session.execute(_MY_VOTES, mine)}
        reblogged = set(session.scalars(_MY_REBLOGS, mine))
        bookmarked = set(session.scalars(_MY_BOOKMARKS, mine))

    def view(post: Post, depth: int = 0) -> PostView:
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
            ):
                result.quote_unavailable = True
            else:
                result.quote = view(quoted, depth + 1)
        return result

    return [view(post) for post in posts]


def _load_posts(session: Session, ids: set[int], into: dict[int, Post]) -> None:
    wanted = ids
    if wanted:
        for post in session.scalars(_POSTS, {"ids": list(wanted)}):
            into[post.id] = post


def build_view(session: Session, viewer: Viewer, post: Post) -> PostView:
    """The view of a single post."""
    return build_views(session, viewer, [post])[0]
