"""The consistency report: "géométrie variable" made visible.

1. Same content, different treatment: posts that share a normalised URL, an attached or linked
   document (SHA-256), or near-identical text, and were treated differently under the same
   rulebook version (different actions or rules, or one actioned and the other not). Each pair
   is listed with both treatments and links to the posts and statements of reasons.
2. Rates by group: of the posts that came before moderation in the period (a notice, a proposal
   or a decision), the share actioned, by the author's follower count and account age; and of the
   appeals decided, the share reversed, by the same groups. See `groups` for the test.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.moderation.enforcement import normalise_url
from parvis.moderation.models import (
    Appeal,
    AppealState,
    Decision,
    DecisionState,
    LinkFetch,
    Notice,
    SubjectType,
)
from parvis.moderation.reasons import is_restriction
from parvis.social.markup import plain_text
from parvis.social.models import Attachment, Post, PostLink
from parvis.transparency import groups, similarity
from parvis.transparency.period import Period

MAX_TEXT_POSTS = 20_000  # newest posts of the period compared by text (bounded work)
MAX_PAIRS_PER_GROUP = 10
MAX_PAIRS = 500
TAKEN = (DecisionState.IN_EFFECT.value, DecisionState.SUPERSEDED.value, DecisionState.EXPIRED.value)


@dataclass(frozen=True)
class Treatment:
    """How one post was treated: its latest decision that is not a pending proposal."""

    post_id: int
    author: str
    decision_id: int | None
    action: str  # a decision action, "declined" (proposal declined) or "none"
    rule_id: str | None
    version: int | None

    @property
    def actioned(self) -> bool:
        """True when a restriction was put in force by this decision."""
        return (
            self.decision_id is not None
            and is_restriction(self.action)
            and self.action != "declined"
        )

    @property
    def described(self) -> str:
        """'interstitial under hacked-materials (v1)' or 'no decision'."""
        if self.decision_id is None:
            return "no decision"
        if self.action == "declined":
            return f"proposal under {self.rule_id} declined (v{self.version})"
        return f"{self.action.replace('_', ' ')} under {self.rule_id} (v{self.version})"

    @property
    def post_url(self) -> str:
        """The post's page."""
        return f"/@{self.author}/{self.post_id}"

    @property
    def statement_url(self) -> str | None:
        """The decision's statement of reasons page."""
        return f"/statements/{self.decision_id}" if self.decision_id else None


@dataclass(frozen=True)
class Pair:
    """Two posts with the same content and different treatment."""

    basis: str  # "same URL", "same document", "near-identical text"
    detail: str
    first: Treatment
    second: Treatment


@dataclass
class ConsistencyResult:
    """Everything the consistency page and command show."""

    period: Period
    pairs: list[Pair]
    comparisons: list[groups.Comparison]
    posts_compared: int
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[tuple[groups.Comparison, groups.GroupRow]]:
        """Every group whose difference is unlikely to be chance."""
        return [(c, row) for c in self.comparisons for row in c.rows if row.flagged]


def _differs(a: Treatment, b: Treatment) -> bool:
    if a.version is not None and b.version is not None and a.version != b.version:
        return False  # the rules may have changed between versions; not comparable
    if a.actioned != b.actioned:
        return True
    return a.actioned and (a.action, a.rule_id) != (b.action, b.rule_id)


def _treatments(session: Session, post_ids: set[int]) -> dict[int, Treatment]:
    """The current treatment of each post (posts with only pending proposals are left out)."""
    authors: dict[int, str] = {}
    for post_id, username in session.execute(
        select(Post.id, User.username)
        .join(User, User.id == Post.author_id)
        .where(Post.id.in_(post_ids))
    ):
        authors[post_id] = username
    latest: dict[int, Decision] = {}
    pending: set[int] = set()
    for decision in session.scalars(
        select(Decision)
        .where(
            Decision.subject_type == SubjectType.POST.value,
            Decision.subject_key.in_([str(i) for i in post_ids]),
        )
        .order_by(Decision.id)
    ):
        post_id = int(decision.subject_key)
        if decision.state == DecisionState.PROPOSED.value:
            pending.add(post_id)
        else:
            latest[post_id] = decision
    found: dict[int, Treatment] = {}
    for post_id in post_ids:
        if post_id not in authors:
            continue
        last = latest.get(post_id)
        if last is None:
            if post_id in pending:
                continue  # awaiting review: not yet treated either way
            found[post_id] = Treatment(post_id, authors[post_id], None, "none", None, None)
            continue
        action = "declined" if last.state == DecisionState.DECLINED.value else last.action
        found[post_id] = Treatment(
            post_id, authors[post_id], last.id, action, last.rule_id, last.rulebook_version
        )
    return found


def _decided_in(session: Session, period: Period) -> set[int]:
    return {
        int(key)
        for key in session.scalars(
            select(Decision.subject_key).where(
                Decision.subject_type == SubjectType.POST.value,
                Decision.state != DecisionState.PROPOSED.value,
                Decision.created_at >= period.start,
                Decision.created_at < period.end,
            )
        )
    }


def _content_keys(
    session: Session, period: Period, decided: set[int]
) -> dict[tuple[str, str], set[int]]:
    """Posts by shared URL and document: the period's posts, the decided posts, and every other
    post that links or attaches exactly what a decided post does."""
    links = session.execute(
        select(PostLink.post_id, PostLink.url).where(PostLink.post_id.in_(decided))
    ).all()
    docs = session.execute(
        select(Attachment.post_id, Attachment.sha256).where(Attachment.post_id.in_(decided))
    ).all()
    in_period = (Post.created_at >= period.start) & (Post.created_at < period.end)
    link_rows = session.execute(
        select(PostLink.post_id, PostLink.url)
        .join(Post, Post.id == PostLink.post_id)
        .where(Post.deleted_at.is_(None))
        .where(
            or_(in_period, PostLink.post_id.in_(decided), PostLink.url.in_({u for _, u in links}))
        )
    ).all()
    doc_rows = session.execute(
        select(Attachment.post_id, Attachment.sha256)
        .join(Post, Post.id == Attachment.post_id)
        .where(Post.deleted_at.is_(None), Attachment.kind == "document")
        .where(
            or_(
                in_period,
                Attachment.post_id.in_(decided),
                Attachment.sha256.in_({s for _, s in docs}),
            )
        )
    ).all()
    keys: dict[tuple[str, str], set[int]] = defaultdict(set)
    urls: dict[str, set[int]] = defaultdict(set)
    for post_id, url in link_rows:
        normal = normalise_url(url)
        keys[("same URL", normal)].add(post_id)
        urls[normal].add(post_id)
    for attached_to, sha in doc_rows:
        if attached_to is not None:
            keys[("same document", sha)].add(attached_to)
    # Documents read behind links (the link checker's fetches) count as the same document.
    for fetched, fetched_sha in session.execute(
        select(LinkFetch.url, LinkFetch.sha256).where(LinkFetch.sha256.is_not(None))
    ):
        for linking in urls.get(normalise_url(fetched), ()):
            keys[("same document", str(fetched_sha))].add(linking)
    return keys


def _text_pairs(
    session: Session, period: Period, decided: set[int]
) -> tuple[list[tuple[int, int, float]], bool]:
    rows = session.execute(
        select(Post.id, Post.title, Post.body_html)
        .where(Post.deleted_at.is_(None), Post.reblog_of_id.is_(None))
        .where(
            or_(
                (Post.created_at >= period.start) & (Post.created_at < period.end),
                Post.id.in_(decided),
            )
        )
        .order_by(Post.id.desc())
        .limit(MAX_TEXT_POSTS + 1)
    ).all()
    truncated = len(rows) > MAX_TEXT_POSTS
    texts = ((row.id, f"{row.title} {plain_text(row.body_html)}") for row in rows[:MAX_TEXT_POSTS])
    return similarity.near_identical(texts), truncated


def find_pairs(session: Session, period: Period) -> tuple[list[Pair], int, list[str]]:
    """Same content, different treatment under the same rulebook version, where at least one
    of the two posts was decided on in the period."""
    decided = _decided_in(session, period)
    notes: list[str] = []
    if not decided:
        return [], 0, notes
    keys = _content_keys(session, period, decided)
    text_pairs, truncated = _text_pairs(session, period, decided)
    if truncated:
        notes.append(f"Text comparison covered the newest {MAX_TEXT_POSTS:,} posts of the period.")
    involved = {i for ids in keys.values() for i in ids} | {
        i for a, b, _ in text_pairs for i in (a, b)
    }
    treatments = _treatments(session, involved)
    pairs: list[Pair] = []
    seen: set[tuple[int, int]] = set()

    def consider(basis: str, detail: str, a: int, b: int) -> bool:
        first, second = treatments.get(a), treatments.get(b)
        if first is None or second is None or (a, b) in seen:
            return False
        if a not in decided and b not in decided:
            return False
        if not _differs(first, second):
            return False
        seen.add((a, b))
        pairs.append(Pair(basis, detail, first, second))
        return True

    for (basis, detail), ids in sorted(keys.items()):
        listed = 0
        for a, b in combinations(sorted(ids), 2):
            if listed >= MAX_PAIRS_PER_GROUP:
                notes.append(
                    f"{basis} {detail}: only the first {MAX_PAIRS_PER_GROUP} pairs listed."
                )
                break
            listed += consider(basis, detail, a, b)
    for a, b, score in text_pairs:
        consider(
            "near-identical text", f"{round(score * 100)} % of three-word sequences shared", a, b
        )
    if len(pairs) > MAX_PAIRS:
        notes.append(f"{len(pairs)} pairs found; the first {MAX_PAIRS} are listed.")
    return pairs[:MAX_PAIRS], len(involved), notes


def _rate_comparisons(session: Session, period: Period) -> list[groups.Comparison]:
    """Action rates of posts that came before moderation, and appeal reversal rates, by band."""
    decisions = session.execute(
        select(Decision.subject_key, Decision.state, Decision.action).where(
            Decision.subject_type == SubjectType.POST.value,
            Decision.created_at >= period.start,
            Decision.created_at < period.end,
        )
    ).all()
    noticed = session.scalars(
        select(Notice.subject_key).where(
            Notice.subject_type == SubjectType.POST.value,
            Notice.created_at >= period.start,
            Notice.created_at < period.end,
        )
    ).all()
    reviewed = {int(key) for key, _s, _a in decisions} | {int(key) for key in noticed}
    actioned = {
        int(key) for key, state, action in decisions if state in TAKEN and is_restriction(action)
    }
    authors = session.execute(
        select(Post.id, Post.created_at, User.followers_count, User.created_at)
        .join(User, User.id == Post.author_id)
        .where(Post.id.in_(reviewed))
    ).all()
    post_cases = [
        groups.Case(
            {
                "followers": groups.follower_band(followers),
                "age": groups.age_band(joined, posted),
            },
            post_id in actioned,
        )
        for post_id, posted, followers, joined in authors
    ]
    appeal_rows = session.execute(
        select(Appeal.state, Appeal.created_at, User.followers_count, User.created_at)
        .join(User, User.id == Appeal.appellant_id)
        .where(
            Appeal.decision_id.is_not(None),
            Appeal.decided_at >= period.start,
            Appeal.decided_at < period.end,
        )
    ).all()
    appeal_cases = [
        groups.Case(
            {"followers": groups.follower_band(followers), "age": groups.age_band(joined, filed)},
            state in (AppealState.REVERSED.value, AppealState.MODIFIED.value),
        )
        for state, filed, followers, joined in appeal_rows
    ]
    comparisons = [
        groups.compare("Action rate", "followers", groups.FOLLOWER_BANDS, post_cases),
        groups.compare("Action rate", "age", groups.AGE_BANDS, post_cases),
        groups.compare("Appeal reversal rate", "followers", groups.FOLLOWER_BANDS, appeal_cases),
        groups.compare("Appeal reversal rate", "age", groups.AGE_BANDS, appeal_cases),
    ]
    groups.adjust(comparisons)
    return comparisons


def build_consistency(session: Session, period: Period) -> ConsistencyResult:
    """The whole consistency report for a period (read-only)."""
    pairs, compared, notes = find_pairs(session, period)
    return ConsistencyResult(period, pairs, _rate_comparisons(session, period), compared, notes)
