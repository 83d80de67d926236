"""Writing posts: create, edit (history kept), delete one's own, repost, vote, bookmark.

Every change that must also notify or count happens here, so no caller writes around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from parvis.accounts.models import User
from parvis.accounts.services import Services
from parvis.config import Settings
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.moderation import enforcement
from parvis.moderation.screening import screen_post
from parvis.moderation.signals.flood import text_key
from parvis.moderation.signals.links import registrable_domain
from parvis.social import events, search
from parvis.social.events import EventKind
from parvis.social.graph import is_blocked_either_way
from parvis.social.markup import render
from parvis.social.models import (
    Attachment,
    Bookmark,
    Mention,
    NotificationKind,
    Post,
    PostKind,
    PostLink,
    PostRevision,
    PostTag,
    Vote,
)
from parvis.social.notifications import notify
from parvis.social.visibility import Viewer, can_see_post
from parvis.storage.base import utcnow
from parvis.storage.hot import HotSQL

VISIBILITIES = ("public", "unlisted")

# On the driver (`storage.hot`): every new post counts towards its author's, and the ORM's
# bulk UPDATE (compiling, then synchronising the session) cost a sixth of creating a post.
_COUNT_POST = HotSQL(
    "UPDATE users SET posts_count = posts_count + 1, last_post_at = :now WHERE id = :author"
)


@dataclass
class PostDraft:
    """What a member submits when writing or editing a post or article."""

    body: str
    title: str = ""
    spoiler_text: str = ""
    sensitive: bool = False
    in_reply_to_id: int | None = None
    quote_of_id: int | None = None
    attachment_ids: list[int] = field(default_factory=list)
    kind: PostKind = PostKind.POST
    language: str | None = None
    visibility: str = "public"


def get_post(session: Session, post_id: int) -> Post:
    """A post by id including deleted ones (for tombstones), or NotFound."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("No such post.")
    return post


def get_visible_post(session: Session, viewer: Viewer, post_id: int) -> Post:
    """A post the viewer may see; deleted, blocked, removed or unknown posts, and those of
    suspended or terminated accounts, are NotFound.

    A post removed by a moderation decision says so, naming the rule and the decision.
    """
    post = session.get(Post, post_id)
    if post is None or post.deleted_at is not None:
        raise NotFound("No such post.")
    if post.author_id in viewer.blocked_ids:
        raise NotFound("No such post.")
    restriction = enforcement.post_restrictions(session, [post.id]).get(post.id)
    if restriction is not None and restriction.removed:
        raise NotFound(
            f"This post was removed under the rule '{restriction.rule_id}' "
            f"(decision {restriction.decision_id})."
        )
    for author_id in _authors_shown(session, post):
        standing = enforcement.account_restriction(session, author_id)
        if standing is not None and standing.action in enforcement.WITHDRAWN:
            raise NotFound(enforcement.withdrawal_reason(standing))
    return post


def _authors_shown(session: Session, post: Post) -> list[int]:
    """Whose words the post shows: its author, and a repost's original author."""
    if post.reblog_of_id is None:
        return [post.author_id]
    original = session.scalar(select(Post.author_id).where(Post.id == post.reblog_of_id))
    return [post.author_id] if original is None else [post.author_id, original]


def _check_can_write(author: User) -> None:
    if author.email_verified_at is None:
        raise PermissionDenied(
            "Confirm your e-mail address before posting: open the link we sent you, "
            "or ask for a new one in your settings."
        )


def _target(session: Session, author: User, post_id: int, what: str) -> Post:
    target = session.get(Post, post_id)
    if target is None or target.deleted_at is not None:
        raise NotFound(f"The post you are {what} does not exist or was deleted.")
    if target.reblog_of_id is not None:
        target = session.get_one(Post, target.reblog_of_id)
    if is_blocked_either_way(session, author.id, target.author_id):
        raise PermissionDenied("You cannot interact with this post (a block stands).")
    return target


def _validate(settings: Settings, draft: PostDraft) -> None:
    body = draft.body.strip()
    limit = (
        settings.max_article_chars if draft.kind == PostKind.ARTICLE else settings.max_post_chars
    )
    if len(body) > limit:
        raise InvalidInput(
            f"Too long: {len(body)} characters, the limit is {limit}.", field="status"
        )
    if draft.kind == PostKind.ARTICLE:
        if not draft.title.strip():
            raise InvalidInput("An article needs a title.", field="title")
        if not body:
            raise InvalidInput("An article needs a body.", field="status")
    elif not body and not draft.attachment_ids and draft.quote_of_id is None:
        raise InvalidInput("Write something or attach a file.", field="status")
    if len(draft.title) > 200:
        raise InvalidInput("Title: at most 200 characters.", field="title")
    if len(draft.spoiler_text) > 200:
        raise InvalidInput("Content warning: at most 200 characters.", field="spoiler_text")
    if draft.visibility not in VISIBILITIES:
        raise InvalidInput(
            f"Visibility '{draft.visibility}' is not supported here; use public or unlisted.",
            field="visibility",
        )
    if len(draft.attachment_ids) > settings.max_attachments_per_post:
        raise InvalidInput(
            f"At most {settings.max_attachments_per_post} attachments per post.",
            field="media_ids",
        )


def _claim_attachments(
    session: Session, author: User, ids: list[int], post_id: int
) -> list[Attachment]:
    attachments = []
    for attachment_id in ids:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or attachment.owner_id != author.id:
            raise InvalidInput(f"Unknown attachment {attachment_id}.", field="media_ids")
        if attachment.post_id not in (None, post_id):
            raise InvalidInput(
                f"Attachment {attachment_id} already belongs to another post.", "media_ids"
            )
        attachment.post_id = post_id
        attachments.append(attachment)
    return attachments


def _store_references(
    session: Session, post: Post, tags: list[str], links: list[str], *, replace: bool
) -> None:
    """Record the post's tags and links; `replace`: an edit, whose earlier ones go first (a new
    post has none: the two DELETEs were a fifth of creating one)."""
    if replace:
        session.execute(delete(PostTag).where(PostTag.post_id == post.id))
        session.execute(delete(PostLink).where(PostLink.post_id == post.id))
    for tag in dict.fromkeys(t.lower() for t in tags):
        session.add(PostTag(post_id=post.id, tag=tag))
    for url in dict.fromkeys(u[:2048] for u in links):
        normal = enforcement.normalise_url(url)
        session.add(
            PostLink(
                post_id=post.id,
                url=url,
                normal_url=normal[:2048],
                domain=registrable_domain(normal)[:255],
            )
        )


def _store_mentions(
    session: Session, post: Post, usernames: list[str], *, replace: bool
) -> list[User]:
    """Record whom the post mentions (`replace`: as `_store_references`); returns them."""
    if replace:
        session.execute(delete(Mention).where(Mention.post_id == post.id))
    if not usernames:
        return []
    keys = {name.lower() for name in usernames}
    users = session.scalars(select(User).where(User.username_key.in_(keys))).all()
    for user in users:
        session.add(Mention(post_id=post.id, user_id=user.id))
    return list(users)


def create_post(
    session: Session,
    settings: Settings,
    author: User,
    draft: PostDraft,
    services: Services | None = None,
) -> Post:
    """Publish a post, reply, quote or article, with its notifications and counters.

    With `services`, the post is screened inline and automatic rules (e.g. doxxing) apply at
    once, in the same transaction.
    """
    _check_can_write(author)
    _validate(settings, draft)
    parent = (
        _target(session, author, draft.in_reply_to_id, "replying to")
        if (draft.in_reply_to_id is not None)
        else None
    )
    quoted = (
        _target(session, author, draft.quote_of_id, "quoting")
        if (draft.quote_of_id is not None)
        else None
    )
    rendered = render(draft.body.strip(), article=draft.kind == PostKind.ARTICLE)
    enforcement.check_may_post(
        session,
        author.id,
        links=rendered.links,
        media=bool(draft.attachment_ids),
        reply=parent is not None,
    )
    enforcement.check_links_allowed(session, rendered.links)
    now = utcnow()
    post = Post(
        author_id=author.id,
        kind=draft.kind.value,
        title=draft.title.strip(),
        body_source=draft.body.strip(),
        body_html=rendered.html,
        text_key=text_key(draft.body),
        spoiler_text=draft.spoiler_text.strip(),
        sensitive=draft.sensitive or bool(draft.spoiler_text.strip()),
        language=(draft.language or None),
        visibility=draft.visibility,
        in_reply_to_id=parent.id if parent else None,
        in_reply_to_account_id=parent.author_id if parent else None,
        quote_of_id=quoted.id if quoted else None,
        created_at=now,
    )
    session.add(post)
    session.flush()
    post.thread_root_id = (parent.thread_root_id or parent.id) if parent else post.id
    _claim_attachments(session, author, draft.attachment_ids, post.id)
    _store_references(session, post, rendered.tags, rendered.links, replace=False)
    mentioned = _store_mentions(session, post, rendered.mentions, replace=False)
    # The author, if this session holds it, says what the row now says (answers render it);
    # read before the UPDATE, which an expired attribute's load would otherwise see.
    counted = author.posts_count if author in session else None
    _COUNT_POST.write(session, {"author": author.id, "now": now})
    if counted is not None:
        set_committed_value(author, "posts_count", counted + 1)
        set_committed_value(author, "last_post_at", now)
    notified: set[int] = set()
    if parent is not None:
        session.execute(
            update(Post).where(Post.id == parent.id).values(replies_count=Post.replies_count + 1)
        )
        notify(session, recipient_id=parent.author_id, actor_id=author.id,
               kind=NotificationKind.REPLY, post_id=post.id)  # fmt: skip
        notified.add(parent.author_id)
    if quoted is not None:
        session.execute(
            update(Post).where(Post.id == quoted.id).values(quotes_count=Post.quotes_count + 1)
        )
        if quoted.author_id not in notified:
            notify(session, recipient_id=quoted.author_id, actor_id=author.id,
                   kind=NotificationKind.QUOTE, post_id=post.id)  # fmt: skip
            notified.add(quoted.author_id)
    for user in mentioned:
        if user.id not in notified:
            notify(session, recipient_id=user.id, actor_id=author.id,
                   kind=NotificationKind.MENTION, post_id=post.id)  # fmt: skip
            notified.add(user.id)
    search.index_post(session, post)
    if services is not None:
        screen_post(session, services, post)
    events.emit(session, EventKind.POST_CREATED, post)
    return post


def edit_post(
    session: Session,
    settings: Settings,
    actor: User,
    post_id: int,
    draft: PostDraft,
    services: Services | None = None,
) -> Post:
    """Change one's own post; the previous version is kept in the edit history."""
    post = get_post(session, post_id)
    if post.deleted_at is not None or post.reblog_of_id is not None:
        raise NotFound("No such post.")
    if post.author_id != actor.id:
        raise PermissionDenied("You can only edit your own posts.")
    _check_can_write(actor)
    draft.kind = PostKind(post.kind)
    draft.in_reply_to_id = post.in_reply_to_id
    draft.quote_of_id = post.quote_of_id
    _validate(settings, draft)
    session.add(
        PostRevision(
            post_id=post.id,
            title=post.title,
            body_source=post.body_source,
            body_html=post.body_html,
            spoiler_text=post.spoiler_text,
            created_at=post.edited_at or post.created_at,
        )
    )
    rendered = render(draft.body.strip(), article=post.kind == PostKind.ARTICLE.value)
    enforcement.check_may_post(
        session,
        actor.id,
        links=rendered.links,
        media=bool(draft.attachment_ids),
        reply=post.in_reply_to_id is not None,
    )
    enforcement.check_links_allowed(session, rendered.links)
    post.title = draft.title.strip()
    post.body_source = draft.body.strip()
    post.text_key = text_key(post.body_source)
    post.body_html = rendered.html
    post.spoiler_text = draft.spoiler_text.strip()
    post.sensitive = draft.sensitive or bool(post.spoiler_text)
    post.edited_at = utcnow()
    current = session.scalars(select(Attachment).where(Attachment.post_id == post.id)).all()
    for attachment in current:
        if attachment.id not in draft.attachment_ids:
            attachment.post_id = None
    _claim_attachments(session, actor, draft.attachment_ids, post.id)
    _store_references(session, post, rendered.tags, rendered.links, replace=True)
    _store_mentions(session, post, rendered.mentions, replace=True)
    search.index_post(session, post)
    if services is not None:
        screen_post(session, services, post, new=False)
    events.emit(session, EventKind.POST_UPDATED, post)
    return post


def revisions(session: Session, post_id: int) -> list[PostRevision]:
    """Earlier versions of a post, oldest first."""
    return list(
        session.scalars(
            select(PostRevision).where(PostRevision.post_id == post_id).order_by(PostRevision.id)
        )
    )


def delete_post(session: Session, actor: User, post_id: int) -> Post:
    """Delete one's own post. Others' posts can only be restricted by a moderation decision."""
    post = get_post(session, post_id)
    if post.deleted_at is not None:
        raise NotFound("No such post.")
    if post.author_id != actor.id:
        raise PermissionDenied(
            "You can only delete your own posts. To report a post, use the report link."
        )
    if post.reblog_of_id is not None:
        return unrepost(session, actor, post.reblog_of_id)
    post.deleted_at = utcnow()
    session.execute(
        update(User).where(User.id == actor.id).values(posts_count=User.posts_count - 1)
    )
    if post.in_reply_to_id is not None:
        session.execute(
            update(Post)
            .where(Post.id == post.in_reply_to_id)
            .values(replies_count=Post.replies_count - 1)
        )
    if post.quote_of_id is not None:
        session.execute(
            update(Post)
            .where(Post.id == post.quote_of_id)
            .values(quotes_count=Post.quotes_count - 1)
        )
    search.unindex_post(session, post.id)
    events.emit(session, EventKind.POST_DELETED, post)
    return post


def repost(session: Session, actor: User, post_id: int) -> Post:
    """Share a post to one's followers (idempotent); returns the repost row."""
    _check_can_write(actor)
    enforcement.check_may_post(session, actor.id, links=[], media=False, reply=False)
    original = _target(session, actor, post_id, "reposting")
    existing = session.scalar(
        select(Post).where(
            Post.author_id == actor.id, Post.reblog_of_id == original.id, Post.deleted_at.is_(None)
        )
    )
    if existing is not None:
        return existing
    row = Post(author_id=actor.id, reblog_of_id=original.id, created_at=utcnow())
    session.add(row)
    session.flush()
    row.thread_root_id = row.id
    session.execute(
        update(Post).where(Post.id == original.id).values(reblogs_count=Post.reblogs_count + 1)
    )
    session.execute(
        update(User).where(User.id == actor.id).values(posts_count=User.posts_count + 1)
    )
    notify(session, recipient_id=original.author_id, actor_id=actor.id,
           kind=NotificationKind.REBLOG, post_id=original.id)  # fmt: skip
    events.emit(session, EventKind.POST_CREATED, row)
    return row


def unrepost(session: Session, actor: User, post_id: int) -> Post:
    """Undo one's repost of a post (idempotent); returns the original."""
    original = get_post(session, post_id)
    if original.reblog_of_id is not None:
        original = get_post(session, original.reblog_of_id)
    existing = session.scalar(
        select(Post).where(
            Post.author_id == actor.id, Post.reblog_of_id == original.id, Post.deleted_at.is_(None)
        )
    )
    if existing is not None:
        existing.deleted_at = utcnow()
        session.execute(
            update(Post).where(Post.id == original.id).values(reblogs_count=Post.reblogs_count - 1)
        )
        session.execute(
            update(User).where(User.id == actor.id).values(posts_count=User.posts_count - 1)
        )
        events.emit(session, EventKind.POST_DELETED, existing)
    return original


def vote(session: Session, actor: User, post_id: int, value: int) -> Post:
    """Vote a post up (1) or down (-1), or withdraw the vote (0). One vote per member."""
    if value not in (-1, 0, 1):
        raise InvalidInput("A vote is 1 (up), -1 (down) or 0 (withdraw).", field="value")
    _check_can_write(actor)
    post = _target(session, actor, post_id, "voting on")
    if post.author_id == actor.id:
        raise InvalidInput("You cannot vote on your own post.")
    current = session.get(Vote, (actor.id, post.id))
    old = current.value if current else 0
    if old == value:
        return post
    up = (value == 1) - (old == 1)
    down = (value == -1) - (old == -1)
    if current is None:
        session.add(Vote(user_id=actor.id, post_id=post.id, value=value))
    elif value == 0:
        session.delete(current)
    else:
        current.value = value
    session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(upvotes=Post.upvotes + up, downvotes=Post.downvotes + down)
    )
    session.execute(
        update(User).where(User.id == post.author_id).values(vote_score=User.vote_score + up - down)
    )
    if value == 1 and old != 1:
        notify(session, recipient_id=post.author_id, actor_id=actor.id,
               kind=NotificationKind.VOTE, post_id=post.id)  # fmt: skip
    session.flush()
    session.refresh(post)
    return post


def bookmark(session: Session, actor: User, post_id: int, on: bool = True) -> Post:
    """Save (or unsave) a post for later; private to the member."""
    post = _target(session, actor, post_id, "bookmarking")
    existing = session.get(Bookmark, (actor.id, post.id))
    if on and existing is None:
        session.add(Bookmark(user_id=actor.id, post_id=post.id))
    elif not on and existing is not None:
        session.delete(existing)
    return post


def may_view(viewer: Viewer, post: Post) -> bool:
    """True when the post is not deleted and the viewer may see it."""
    return post.deleted_at is None and can_see_post(viewer, post)
