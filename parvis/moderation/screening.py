"""Inline screening of new and edited posts: run the cheap detectors over the post and the
documents it attaches or links, evaluate the rulebook in force, and apply the rules a machine
may apply alone (e.g. doxxing, flooding) by a decision; list and watched-word matches are
proposed for a moderator to confirm.

Each source (the post's text, each document) is evaluated on its own, so a rule needing two
signals together (a national identifier *with* a street address) fires only when one text
holds both.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from parvis.accounts.services import Services
from parvis.moderation import documents, lists, publication
from parvis.moderation.decisions import DecisionRequest, decide, write_changed_decisions
from parvis.moderation.evaluate import Proposal, evaluate
from parvis.moderation.models import (
    Action,
    Automation,
    Decision,
    Source,
    SubjectType,
)
from parvis.moderation.rulebook import POST_LEVEL, Rule, Rulebook
from parvis.moderation.services import take_decision
from parvis.moderation.signals import flood, inline, words
from parvis.moderation.signals.documents import near_duplicate
from parvis.moderation.signals.types import Signal
from parvis.social.models import Post
from parvis.storage.base import utcnow
from parvis.storage.hot import HotSQL

# Hand-written (`storage.hot`): this runs for every new post and edit. What screening reads
# before anything else, in one statement: the rulebook and list state (`moderation_state`),
# the author's recent posting (flooding) and whether the post attaches a document. On
# PostgreSQL every statement is a round trip (~0.15 ms on a 2-core machine) and these were
# three, most of what screening a post with no signal cost there.
# The account's posts of the last hour (at most the 200 latest) are counted in the database:
# the texts are compared by their stored key, not read back and hashed again.
_FIRST_LOOK = HotSQL(
    "SELECT (SELECT max(version) FROM rulebook_versions), (SELECT count(id) FROM list_entries),"
    " (SELECT max(id) FROM list_entries), (SELECT count(id) FROM list_entry_removals),"
    " recent.last_minute, recent.copies,"
    " (SELECT count(*) FROM (SELECT 1 FROM attachments WHERE post_id = :post"
    " AND kind = 'document' LIMIT 1) AS one_document)"
    " FROM (SELECT coalesce(sum(CASE WHEN created_at >= :minute THEN 1 ELSE 0 END), 0)"
    " AS last_minute, coalesce(sum(CASE WHEN text_key = :key THEN 1 ELSE 0 END), 0) AS copies"
    " FROM (SELECT created_at, text_key FROM posts WHERE author_id = :author AND id <> :post"
    " AND created_at >= :since ORDER BY id DESC LIMIT 200) AS last_hour) AS recent"
)
PROPOSED_ON = {"listed_url", "listed_domain", "listed_document", "watched_words"}


@dataclass(frozen=True)
class ScreenedText:
    """One text screened: where it came from (for the facts) and what was found in it."""

    label: str
    signals: list[Signal]
    lists: lists.Snapshot


def _rule_for(rulebook: Rulebook, kind: str) -> Rule | None:
    return next((r for r in rulebook.rules if kind in (*r.any_of, *r.all_of)), None)


def _document_signals(
    found: documents.FoundDocument, on_list: lists.Snapshot, max_bits: int
) -> list[Signal]:
    record = found.record
    signals = inline.detect(record.text)
    if record.sha256 in on_list.documents:
        signals.append(Signal("listed_document", 0, 0, 1.0, {"sha256": record.sha256}))
    else:
        for listed_sha, listed_print in on_list.fingerprints.items():
            if near_duplicate(record.fingerprint, listed_print, max_bits):
                signals.append(
                    Signal(
                        "listed_document",
                        0,
                        0,
                        0.95,
                        {"sha256": record.sha256, "near_duplicate_of": listed_sha},
                    )
                )
                break
    return signals


@dataclass(frozen=True, slots=True)
class FirstLook:
    """What `_FIRST_LOOK` read for one post."""

    state: tuple[int, int, int, int] | None  # the rulebook and lists; None before a rulebook
    posts_last_minute: int  # the author's, this post not counted
    copies_last_hour: int  # the author's posts with this post's text, this one not counted
    attaches_document: bool


def first_look(session: Session, post: Post) -> FirstLook:
    """Read what screening `post` needs first, in one statement."""
    now = post.created_at or utcnow()
    ((version, count, highest, removals, last_minute, copies, documents_found),) = _FIRST_LOOK.rows(
        session,
        {
            "author": post.author_id,
            "post": post.id,
            "since": now - timedelta(hours=1),
            "minute": now - timedelta(minutes=1),
            "key": post.text_key,
        },
    )
    state = (
        None if version is None else (int(version), int(count), int(highest or 0), int(removals))
    )
    return FirstLook(state, int(last_minute), int(copies), bool(documents_found))


def _flood_signals(rulebook: Rulebook, post: Post, look: FirstLook) -> list[Signal]:
    rule = _rule_for(rulebook, "flood")
    if rule is None:
        return []
    thresholds = flood.FloodThresholds(
        posts_per_minute=rule.threshold("posts_per_minute", flood.DEFAULT_POSTS_PER_MINUTE),
        duplicates_per_hour=rule.threshold(
            "duplicates_per_hour", flood.DEFAULT_DUPLICATES_PER_HOUR
        ),
    )
    earlier = flood.RecentActivity(look.posts_last_minute, look.copies_last_hour)
    return flood.detect(earlier, post.body_source, thresholds)


_MAX_CACHED_STATES = 64
# Per database (its engine: rendering the URL as a key cost more than the query, every post).
_states: weakref.WeakKeyDictionary[
    Engine, dict[tuple[int, int, int, int], tuple[Rulebook, lists.Snapshot]]
] = weakref.WeakKeyDictionary()


def moderation_state(
    session: Session, key: tuple[int, int, int, int]
) -> tuple[int, Rulebook, lists.Snapshot] | None:
    """The rulebook in force and the lists, for the state `first_look` read (`key`: the
    version, the list entries' count and highest id, the removals' count), read again only
    when that changed: a new version, an entry added (count and highest id grow) or removed
    (every removal is recorded, so the removal count grows even when SQLite reuses the highest
    id for the next entry). None when no rulebook is in force."""
    engine = session.get_bind().engine
    cached = _states.get(engine)
    if cached is None:
        cached = _states[engine] = {}
    known = cached.get(key)
    if known is None:
        current = publication.in_force(session)
        if current is None:
            return None
        if len(cached) >= _MAX_CACHED_STATES:
            cached.clear()
        known = cached[key] = (current[1], lists.snapshot(session))
    return key[0], known[0], known[1]


def forget_cached_state() -> None:
    """Drop the cached rulebooks and lists. Only for tools that empty a database in place (the
    test suite's PostgreSQL reset): the cache assumes a database's lists only move forward."""
    _states.clear()


def sources_of(
    session: Session,
    services: Services,
    post: Post,
    rulebook: Rulebook,
    on_list: lists.Snapshot,
    *,
    new: bool,
    look: FirstLook,
) -> list[ScreenedText]:
    """Every text of the post with its signals: the post itself, then each document. Queues
    the post's links for the link checker on the way. `look`: what `first_look` read."""
    text = f"{post.title}\n{post.spoiler_text}\n{post.body_source}"
    own = inline.detect(text, listed_urls=on_list.urls, listed_domains=on_list.domains)
    own += words.detect(text, on_list.words)
    urls = {s.evidence["url"] for s in own if s.kind == "url"}
    if new:
        own += _flood_signals(rulebook, post, look)
    found = [ScreenedText("the post", own, on_list)]
    if urls and services.settings.link_check_enabled:
        documents.enqueue_links(session, urls)
    hacked = _rule_for(rulebook, "listed_document")
    max_bits = hacked.threshold("fingerprint_bits", 3) if hacked else 3
    for document in documents.attached(
        session, services.settings, post, any_known=look.attaches_document
    ) + documents.linked(session, urls):
        found.append(
            ScreenedText(
                document.describe(), _document_signals(document, on_list, max_bits), on_list
            )
        )
    return found


# On the driver: decisions are written as they are taken (`decisions.decide`).
# The states are written into the statement (a bound list costs SQLite a json_each() a run);
# a misspelt one fails tests/moderation/test_screening.py (a post screened twice).
_IN_FORCE_OR_PROPOSED = HotSQL(
    "SELECT id FROM decisions WHERE subject_type = :type AND subject_key = :key"
    " AND rule_id = :rule AND state IN ('in_effect', 'proposed') LIMIT 1"
)


def _already(session: Session, subject: SubjectType, key: str, rule_id: str) -> bool:
    write_changed_decisions(session)
    found = _IN_FORCE_OR_PROPOSED.rows(
        session, {"type": subject.value, "key": key, "rule": rule_id}
    )
    return bool(found)


def _described(signals: tuple[Signal, ...]) -> str:
    return ", ".join(
        sorted(
            {
                f"{s.kind} ({s.evidence['scheme']})"
                if "scheme" in s.evidence
                else f"{s.kind} ({s.evidence['reason']})"
                if "reason" in s.evidence
                else "listed_document (near-duplicate)"
                if "near_duplicate_of" in s.evidence
                else s.kind
                for s in signals
            }
        )
    )


def _apply(
    session: Session,
    services: Services,
    post: Post,
    proposal: Proposal,
    where: str,
    version: int,
    on_list: lists.Snapshot,
    *,
    new: bool,
    untouched: bool,
) -> Decision | None:
    """Decide (or propose) what `proposal` calls for. `new`: the post was created in this
    transaction; `untouched`: no decision was taken on it yet in this screening."""
    rule = proposal.rule
    found = _described(proposal.signals)
    if not rule.automatic:
        # A list match proposes only the rule its list entry cites (a domain listed as hacked
        # materials is not also a scam).
        cited = {on_list.rule_cited(s) for s in proposal.signals if s.kind in PROPOSED_ON}
        action = rule.post_action
        if action is None or rule.id not in cited:
            return None
        if _already(session, SubjectType.POST, str(post.id), rule.id):
            return None
        return decide(
            session,
            DecisionRequest(
                subject_type=SubjectType.POST,
                subject_key=str(post.id),
                action=action,
                rule=rule.info(version),
                facts=f"Automated detection found in {where}: {found}. A moderator reviews "
                "before anything is applied.",
                source=Source.OWN_INITIATIVE,
                automated_detection=True,
                automated_decision=Automation.FULLY,
                territorial_scope=list(rule.territorial_scope),
                propose=True,
            ),
        )
    features: tuple[str, ...] = ()
    if rule.action in POST_LEVEL:
        subject, key = SubjectType.POST, str(post.id)
        consequence = "the account stays active"
    elif rule.action == Action.RESTRICT_ACCOUNT.value:
        subject, key, features = SubjectType.ACCOUNT, str(post.author_id), rule.features
        consequence = f"the account may not use: {', '.join(rule.features)}"
    else:
        return None  # suspensions are never automatic from one post's signals
    # A post created in this transaction has no decisions yet, but its author may.
    fresh = new and subject == SubjectType.POST
    if not fresh and _already(session, subject, key, rule.id):
        return None
    return take_decision(
        session,
        services,
        DecisionRequest(
            subject_type=subject,
            subject_key=key,
            action=Action(rule.action),
            rule=rule.info(version),
            facts=f"Automated detection found in {where}: {found}. The rule '{rule.id}' "
            f"applies '{rule.action}' at once, pending review; {consequence}.",
            source=Source.OWN_INITIATIVE,
            automated_detection=True,
            automated_decision=Automation.FULLY,
            duration=timedelta(days=rule.duration_days) if rule.duration_days else None,
            features=tuple(features),
            territorial_scope=list(rule.territorial_scope),
            new_subject=fresh and untouched,
            deliver_after_commit=True,
            detached=True,
        ),
    )


def screen_post(
    session: Session, services: Services, post: Post, *, new: bool = True
) -> list[Decision]:
    """Apply the automatic rules the post triggers and propose the others its list or
    watched-word matches trigger; returns the decisions taken or proposed. `new` is false for
    edits and re-screens (which do not count towards flooding)."""
    # Screening reads with hand-written SQL, which does not flush the session first: what the
    # caller left pending (the post's claimed attachments, its tags and links) is written now.
    session.flush()
    look = first_look(session, post)
    if look.state is None:
        return []  # no rulebook published yet: nothing to apply
    state = moderation_state(session, look.state)
    if state is None:
        return []
    version, rulebook, on_list = state
    publication.hold_in_force(session, version, rulebook)
    taken: list[Decision] = []
    applied: set[str] = set()
    for source in sources_of(session, services, post, rulebook, on_list, new=new, look=look):
        if not source.signals:
            continue
        for proposal in evaluate(rulebook, source.signals):
            if proposal.rule.id in applied:
                continue
            decision = _apply(
                session,
                services,
                post,
                proposal,
                source.label,
                version,
                source.lists,
                new=new,
                untouched=not taken,
            )
            if decision is not None:
                taken.append(decision)
                applied.add(proposal.rule.id)
    return taken
