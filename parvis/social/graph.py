"""The social graph: follows, mutes, blocks and muted words."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.social.models import Block, Follow, Mute, MutedWord, NotificationKind
from parvis.social.notifications import notify

MAX_MUTED_WORDS = 200


@dataclass(frozen=True)
class Relationship:
    """How the viewer and another account relate (Mastodon's Relationship entity)."""

    account_id: int
    following: bool
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool


def is_blocked_either_way(session: Session, a: int, b: int) -> bool:
    """True when either account blocks the other."""
    return session.get(Block, (a, b)) is not None or session.get(Block, (b, a)) is not None


def follow(session: Session, actor: User, target: User) -> None:
    """Follow an account (idempotent); refused across a block and for oneself."""
    if actor.id == target.id:
        raise InvalidInput("You cannot follow yourself.")
    if is_blocked_either_way(session, actor.id, target.id):
        raise PermissionDenied("You cannot follow this account.")
    if session.get(Follow, (actor.id, target.id)) is not None:
        return
    session.add(Follow(follower_id=actor.id, followee_id=target.id))
    _adjust_follow_counts(session, actor.id, target.id, +1)
    notify(session, recipient_id=target.id, actor_id=actor.id, kind=NotificationKind.FOLLOW)


def unfollow(session: Session, actor: User, target: User) -> None:
    """Stop following (idempotent)."""
    result = session.execute(
        delete(Follow).where(Follow.follower_id == actor.id, Follow.followee_id == target.id)
    )
    if getattr(result, "rowcount", 0):
        _adjust_follow_counts(session, actor.id, target.id, -1)


def _adjust_follow_counts(session: Session, follower: int, followee: int, delta: int) -> None:
    session.execute(
        update(User).where(User.id == follower).values(following_count=User.following_count + delta)
    )
    session.execute(
        update(User).where(User.id == followee).values(followers_count=User.followers_count + delta)
    )


def mute(session: Session, actor: User, target: User) -> None:
    """Hide an account's posts from the actor everywhere (idempotent)."""
    if actor.id == target.id:
        raise InvalidInput("You cannot mute yourself.")
    if session.get(Mute, (actor.id, target.id)) is None:
        session.add(Mute(user_id=actor.id, target_id=target.id))


def unmute(session: Session, actor: User, target: User) -> None:
    """Undo a mute (idempotent)."""
    session.execute(delete(Mute).where(Mute.user_id == actor.id, Mute.target_id == target.id))


def block(session: Session, actor: User, target: User) -> None:
    """Block an account: follows both ways end, and neither sees or reaches the other."""
    if actor.id == target.id:
        raise InvalidInput("You cannot block yourself.")
    if session.get(Block, (actor.id, target.id)) is not None:
        return
    session.add(Block(user_id=actor.id, target_id=target.id))
    unfollow(session, actor, target)
    unfollow(session, target, actor)


def unblock(session: Session, actor: User, target: User) -> None:
    """Lift a block (idempotent); follows are not restored."""
    session.execute(delete(Block).where(Block.user_id == actor.id, Block.target_id == target.id))


def relationship(session: Session, viewer_id: int, other_id: int) -> Relationship:
    """The relationship between the viewer and another account."""
    return Relationship(
        account_id=other_id,
        following=session.get(Follow, (viewer_id, other_id)) is not None,
        followed_by=session.get(Follow, (other_id, viewer_id)) is not None,
        blocking=session.get(Block, (viewer_id, other_id)) is not None,
        blocked_by=session.get(Block, (other_id, viewer_id)) is not None,
        muting=session.get(Mute, (viewer_id, other_id)) is not None,
    )


def add_muted_word(session: Session, user: User, phrase: str, whole_word: bool = True) -> MutedWord:
    """Mute a word or phrase for the member."""
    phrase = phrase.strip()
    if not phrase or len(phrase) > 100:
        raise InvalidInput("A muted word must be 1 to 100 characters.", field="phrase")
    existing = session.scalars(select(MutedWord).where(MutedWord.user_id == user.id)).all()
    for row in existing:
        if row.phrase.lower() == phrase.lower():
            return row
    if len(existing) >= MAX_MUTED_WORDS:
        raise InvalidInput(f"You can mute at most {MAX_MUTED_WORDS} words.", field="phrase")
    row = MutedWord(user_id=user.id, phrase=phrase, whole_word=whole_word)
    session.add(row)
    session.flush()
    return row


def update_muted_word(
    session: Session, user: User, word_id: int, phrase: str, whole_word: bool
) -> MutedWord:
    """Change a word the member muted (its phrase or whether it matches whole words only)."""
    row = session.get(MutedWord, word_id)
    if row is None or row.user_id != user.id:
        raise NotFound("No such muted word.")
    phrase = phrase.strip()
    if not phrase or len(phrase) > 100:
        raise InvalidInput("A muted word must be 1 to 100 characters.", field="phrase")
    row.phrase = phrase
    row.whole_word = whole_word
    session.flush()
    return row


def remove_muted_word(session: Session, user: User, word_id: int) -> None:
    """Unmute a word the member muted."""
    row = session.get(MutedWord, word_id)
    if row is None or row.user_id != user.id:
        raise NotFound("No such muted word.")
    session.delete(row)


def muted_words(session: Session, user: User) -> list[MutedWord]:
    """The member's muted words, oldest first."""
    return list(
        session.scalars(
            select(MutedWord).where(MutedWord.user_id == user.id).order_by(MutedWord.id)
        )
    )


def followee_ids(session: Session, user_id: int) -> list[int]:
    """Ids of the accounts the member follows."""
    return list(session.scalars(select(Follow.followee_id).where(Follow.follower_id == user_id)))


def list_accounts(
    session: Session, user_id: int, which: str, *, max_id: int | None = None, limit: int = 40
) -> list[User]:
    """Followers, following, blocks or mutes of a member, newest first by account id."""
    if which == "followers":
        ids = select(Follow.follower_id).where(Follow.followee_id == user_id)
    elif which == "following":
        ids = select(Follow.followee_id).where(Follow.follower_id == user_id)
    elif which == "blocks":
        ids = select(Block.target_id).where(Block.user_id == user_id)
    elif which == "mutes":
        ids = select(Mute.target_id).where(Mute.user_id == user_id)
    else:
        raise InvalidInput(f"Unknown list '{which}'.")
    query = select(User).where(User.id.in_(ids))
    if max_id is not None:
        query = query.where(User.id < max_id)
    return list(session.scalars(query.order_by(User.id.desc()).limit(limit)))
