"""What a given viewer may see: blocks (both ways), mutes and muted words.

This is the one place feeds, pages, search, notifications and the API ask "may this viewer see
this post or account?". Moderation (restrictions by decision) plugs in here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from parvis.social.rows import AnyPost
from parvis.storage.hot import HotSQL, Reader


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


# Hand-written (see `storage.hot`): a viewer is loaded on every signed-in request. Blocks both
# ways, mutes and muted words in one round trip.
_VIEWER = HotSQL(
    "SELECT 'b', target_id, CAST(NULL AS VARCHAR(100)), CAST(NULL AS BOOLEAN) FROM blocks"
    " WHERE user_id = :me"
    " UNION ALL SELECT 'b', user_id, NULL, NULL FROM blocks WHERE target_id = :me"
    " UNION ALL SELECT 'm', target_id, NULL, NULL FROM mutes WHERE user_id = :me"
    " UNION ALL SELECT 'w', NULL, phrase, whole_word FROM muted_words WHERE user_id = :me"
)


def load_viewer(db: Reader, user_id: int | None) -> Viewer:
    """Build the viewer context for a member (or the anonymous public) in one small query."""
    if user_id is None:
        return ANONYMOUS
    blocked: list[int] = []
    muted: list[int] = []
    words: list[tuple[str, bool]] = []
    for kind, other, phrase, whole_word in _VIEWER.rows(db, {"me": user_id}):
        if kind == "b":
            blocked.append(other)
        elif kind == "m":
            muted.append(other)
        else:
            words.append((phrase, bool(whole_word)))
    return Viewer(
        user_id=user_id,
        blocked_ids=frozenset(blocked),
        muted_ids=frozenset(muted),
        muted_words=muted_words_pattern(words),
    )


def post_text(post: AnyPost) -> str:
    """The text muted words are matched against: title, content warning and body source."""
    return f"{post.title}\n{post.spoiler_text}\n{post.body_source}"


def can_see_post(viewer: Viewer, post: AnyPost, *, own_muted_exempt: bool = True) -> bool:
    """May the viewer see this post at all (ignoring whether it was deleted)?"""
    if viewer.user_id is not None and post.author_id == viewer.user_id and own_muted_exempt:
        return True
    if post.author_id in viewer.hidden_author_ids:
        return False
    return not viewer.text_is_muted(post_text(post))
