"""What a given viewer may see: blocks (both ways), mutes and muted words.

This is the one place feeds, pages, search, notifications and the API ask "may this viewer see
this post or account?". Moderation (restrictions by decision) plugs in here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.orm import Session

from parvis.social.models import Block, Mute, MutedWord, Post


@dataclass(frozen=True)
class Viewer:
    """Who is looking, and the accounts and words they never want to see."""

    user_id: int | None = None
    # Accounts the viewer blocked or that blocked the viewer: invisible both ways.
    blocked_ids: frozenset[int] = field(default_factory=frozenset)
    muted_ids: frozenset[int] = field(default_factory=frozenset)
    muted_words: re.Pattern[str] | None = None

    @property
    def hidden_author_ids(self) -> frozenset[int]:
        """Authors whose posts this viewer never sees."""
        return self.blocked_ids | self.muted_ids

    def can_see_account(self, account_id: int) -> bool:
        """False when a block stands between the viewer and the account."""
        return account_id not in self.blocked_ids

    def text_is_muted(self, text: str) -> bool:
        """True when the text contains one of the viewer's muted words."""
        return bool(self.muted_words and self.muted_words.search(text))


ANONYMOUS = Viewer()


def muted_words_pattern(words: Iterable[tuple[str, bool]]) -> re.Pattern[str] | None:
    """A case-insensitive pattern matching any muted phrase (whole words where asked)."""
    parts = []
    for phrase, whole_word in words:
        escaped = re.escape(phrase.strip())
        if not escaped:
            continue
        parts.append(rf"(?<!\w){escaped}(?!\w)" if whole_word else escaped)
    if not parts:
        return None
    return re.compile("|".join(parts), re.IGNORECASE)


# Built once: a viewer is loaded on every signed-in request.
_BLOCKS_AND_MUTES = union_all(
    select(literal("b"), Block.target_id).where(Block.user_id == bindparam("me")),
    select(literal("b"), Block.user_id).where(Block.target_id == bindparam("me")),
    select(literal("m"), Mute.target_id).where(Mute.user_id == bindparam("me")),
)
_MUTED_WORDS = select(MutedWord.phrase, MutedWord.whole_word).where(
    MutedWord.user_id == bindparam("me")
)


def load_viewer(session: Session, user_id: int | None) -> Viewer:
    """Build the viewer context for a member (or the anonymous public) in three small queries."""
    if user_id is None:
        return ANONYMOUS
    # Blocks both ways and mutes in one round trip; muted words in a second.
    blocked: list[int] = []
    muted: list[int] = []
    for kind, other in session.execute(_BLOCKS_AND_MUTES, {"me": user_id}):
        (blocked if kind == "b" else muted).append(other)
    words = session.execute(_MUTED_WORDS, {"me": user_id}).all()
    return Viewer(
        user_id=user_id,
        blocked_ids=frozenset(blocked),
        muted_ids=frozenset(muted),
        muted_words=muted_words_pattern((phrase, whole) for phrase, whole in words),
    )


def post_text(post: Post) -> str:
    """The text muted words are matched against: title, content warning and body source."""
    return f"{post.title}\n{post.spoiler_text}\n{post.body_source}"


def can_see_post(viewer: Viewer, post: Post, *, own_muted_exempt: bool = True) -> bool:
    """May the viewer see this post at all (ignoring whether it was deleted)?"""
    if viewer.user_id is not None and post.author_id == viewer.user_id and own_muted_exempt:
        return True
    if post.author_id in viewer.hidden_author_ids:
        return False
    return not viewer.text_is_muted(post_text(post))
