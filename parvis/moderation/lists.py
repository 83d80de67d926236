"""Moderation lists (hacked materials): URLs, domains and document fingerprints, each added by a
moderator citing a rule. Adding an entry looks back over existing posts and proposes, per the
rule, blocking the link's sharing and placing the posts that carry it behind a warning."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.audit import log as audit_log
from parvis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from parvis.moderation import documents, linkcheck, publication
from parvis.moderation.decisions import DecisionRequest, decide
from parvis.moderation.enforcement import normalise_url
from parvis.moderation.models import (
    Action,
    Automation,
    Decision,
    DecisionState,
    DocumentRecord,
    LinkFetch,
    ListEntry,
    ListEntryRemoval,
    Source,
    SubjectType,
)
from parvis.moderation.signals.documents import near_duplicate
from parvis.moderation.signals.types import Signal
from parvis.social.models import Attachment, Post, PostLink

KINDS = ("url", "domain", "document", "word")
HACKED_MATERIALS = "hacked-materials"
WATCHED_WORDS = "watched-words"
# Which kinds of entry each list holds.
LIST_KINDS = {HACKED_MATERIALS: ("url", "domain", "document"), WATCHED_WORDS: ("word",)}
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def normalise_value(kind: str, value: str) -> str:
    """The form an entry is stored and matched under."""
    value = value.strip()
    if kind == "url":
        if not value.startswith(("http://", "https://")):
            raise InvalidInput("A URL entry must start with http:// or https://.", "value")
        return normalise_url(value)
    if kind == "domain":
        domain = value.lower().removeprefix("https://").removeprefix("http://").split("/")[0]
        if "." not in domain:
            raise InvalidInput("Give a domain such as leaks.example.", "value")
        return domain
    if kind == "document":
        if not SHA256_RE.match(value.lower()):
            raise InvalidInput("A document entry is the file's SHA-256 (64 hex digits).", "value")
        return value.lower()
    if kind == "word":
        word = " ".join(value.casefold().split())
        if not 2 <= len(word) <= 100:
            raise InvalidInput("A watched word or phrase has 2 to 100 characters.", "value")
        return word
    raise InvalidInput(f"kind must be one of {', '.join(KINDS)}.", "kind")


_ALL_ENTRIES = select(
    ListEntry.list_name, ListEntry.kind, ListEntry.value, ListEntry.fingerprint, ListEntry.rule_id
)


@dataclass(frozen=True)
class Snapshot:
    """Every list's entries as screening needs them, read in one query."""

    urls: frozenset[str]
    domains: frozenset[str]
    documents: frozenset[str]
    fingerprints: dict[str, str]  # listed document SHA-256 -> text fingerprint
    words: frozenset[str]
    rules: dict[tuple[str, str], str]  # (kind, value) -> the rule the entry cites

    def rule_cited(self, signal: Signal) -> str | None:
        """The rule cited by the list entry a list-match signal comes from."""
        key = {
            "listed_url": ("url", signal.evidence.get("url", "")),
            "listed_domain": ("domain", signal.evidence.get("domain", "")),
            "listed_document": (
                "document",
                signal.evidence.get("near_duplicate_of") or signal.evidence.get("sha256", ""),
            ),
            "watched_words": ("word", signal.evidence.get("word", "")),
        }.get(signal.kind)
        return self.rules.get(key) if key else None


def snapshot(session: Session) -> Snapshot:
    """The hacked-materials and watched-words lists as they stand."""
    values: dict[str, set[str]] = {kind: set() for kind in KINDS}
    prints: dict[str, str] = {}
    rules: dict[tuple[str, str], str] = {}
    for list_name, kind, value, print_, rule_id in session.execute(_ALL_ENTRIES):
        if kind in LIST_KINDS.get(list_name, ()):
            values[kind].add(value)
            rules[(kind, value)] = rule_id
            if print_:
                prints[value] = print_
    return Snapshot(
        frozenset(values["url"]),
        frozenset(values["domain"]),
        frozenset(values["document"]),
        prints,
        frozenset(values["word"]),
        rules,
    )


def document_fingerprints(session: Session, list_name: str = HACKED_MATERIALS) -> dict[str, str]:
    """Listed documents' text fingerprints by SHA-256 (those Parvis could read)."""
    rows = session.execute(
        select(ListEntry.value, ListEntry.fingerprint).where(
            ListEntry.list_name == list_name,
            ListEntry.kind == "document",
            ListEntry.fingerprint != "",
        )
    )
    return {row.value: row.fingerprint for row in rows}


def listed(session: Session, list_name: str = HACKED_MATERIALS) -> dict[str, set[str]]:
    """Every listed value by kind (read by screening)."""
    values: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, value in session.execute(
        select(ListEntry.kind, ListEntry.value).where(ListEntry.list_name == list_name)
    ):
        values[kind].add(value)
    return values


def add_entry(
    session: Session,
    moderator: User,
    *,
    kind: str,
    value: str,
    rule_id: str,
    note: str = "",
    list_name: str = "hacked-materials",
) -> tuple[ListEntry, list[Decision]]:
    """Add an entry and propose the rule's actions for the link and for existing posts."""
    if not moderator.is_moderator:
        raise PermissionDenied("Only moderators manage moderation lists.")
    if list_name not in LIST_KINDS:
        raise InvalidInput(f"Unknown list; lists are: {', '.join(LIST_KINDS)}.", "list_name")
    if kind not in LIST_KINDS[list_name]:
        raise InvalidInput(
            f"The {list_name} list holds: {', '.join(LIST_KINDS[list_name])}.", "kind"
        )
    value = normalise_value(kind, value)
    row = publication.get_version(session)
    try:
        rule = publication.parsed(row).rule(rule_id)
    except KeyError as exc:
        raise InvalidInput(f"The rulebook in force has no rule '{rule_id}'.", "rule_id") from exc
    exists = session.scalar(
        select(ListEntry.id).where(
            ListEntry.list_name == list_name, ListEntry.kind == kind, ListEntry.value == value
        )
    )
    if exists:
        raise Conflict(f"{value} is already on the {list_name} list (entry {exists}).")
    entry = ListEntry(
        list_name=list_name,
        kind=kind,
        value=value,
        rule_id=rule_id,
        note=note.strip()[:2000],
        added_by_id=moderator.id,
        fingerprint=documents.fingerprint_of(session, value) if kind == "document" else "",
    )
    session.add(entry)
    session.flush()
    audit_log.record_list_change(session, entry, "add")
    info = rule.info(row.version)
    proposals: list[Decision] = []

    def propose(subject: SubjectType, key: str, action: Action, facts: str) -> None:
        proposals.append(
            decide(
                session,
                DecisionRequest(
                    subject_type=subject,
                    subject_key=key,
                    action=action,
                    rule=info,
                    facts=facts,
                    source=Source.OWN_INITIATIVE,
                    automated_detection=True,
                    automated_decision=Automation.FULLY,
                    territorial_scope=list(rule.territorial_scope),
                    propose=True,
                ),
            )
        )

    if kind == "word":
        return entry, []  # watched words flag new posts for review; old posts are not swept
    what = {
        "url": "links to an address",
        "domain": "links to a domain",
        "document": "attaches or links a document",
    }[kind]
    if kind in ("url", "domain") and rule.action == Action.BLOCK_URL.value:
        propose(
            SubjectType.URL if kind == "url" else SubjectType.DOMAIN,
            value,
            Action.BLOCK_URL,
            f"The {kind} is on the {list_name} list under the rule '{rule_id}'.",
        )
    post_action = rule.post_action
    if post_action is not None:
        for post_id in _posts_matching(session, kind, value, entry.fingerprint):
            if _pending_or_in_force(session, post_id, rule_id):
                continue  # e.g. the post was already caught by the document's address
            propose(
                SubjectType.POST,
                str(post_id),
                post_action,
                f"The post {what} on the {list_name} list (rule '{rule_id}').",
            )
    return entry, proposals


def remove_entry(session: Session, moderator: User, entry_id: int, reason: str = "") -> ListEntry:
    """Take an entry off its list, recording who removed it, when and why. Decisions already
    taken because of it stay (they are reversed, like any decision, by appeal or a later
    decision); new posts are no longer matched against it. Returns the removed entry
    (detached) so callers can report it."""
    if not moderator.is_moderator:
        raise PermissionDenied("Only moderators manage moderation lists.")
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        raise NotFound("No such list entry.")
    audit_log.record_list_change(session, entry, "remove")
    session.add(
        ListEntryRemoval(
            entry_id=entry.id,
            list_name=entry.list_name,
            kind=entry.kind,
            value=entry.value,
            rule_id=entry.rule_id,
            reason=reason.strip()[:2000],
            removed_by_id=moderator.id,
        )
    )
    session.delete(entry)
    session.flush()
    return entry


def entries(session: Session, list_name: str, limit: int = 200) -> list[ListEntry]:
    """A list's entries, newest first."""
    if list_name not in LIST_KINDS:
        raise NotFound(f"No such list; lists are: {', '.join(LIST_KINDS)}.")
    return list(
        session.scalars(
            select(ListEntry)
            .where(ListEntry.list_name == list_name)
            .order_by(ListEntry.id.desc())
            .limit(limit)
        )
    )


def _pending_or_in_force(session: Session, post_id: int, rule_id: str) -> bool:
    return (
        session.scalar(
            select(Decision.id).where(
                Decision.subject_type == SubjectType.POST.value,
                Decision.subject_key == str(post_id),
                Decision.rule_id == rule_id,
                Decision.state.in_([DecisionState.PROPOSED.value, DecisionState.IN_EFFECT.value]),
            )
        )
        is not None
    )


def _posts_matching(session: Session, kind: str, value: str, fingerprint: str = "") -> list[int]:
    """Posts that carry the listed item: attach or link the document (or a near copy of it),
    link the address or domain, or link a page that links the listed document or address."""
    found: set[int] = set()
    if kind == "document":
        hashes = {value}
        if fingerprint:
            hashes |= {
                sha
                for sha, other in session.execute(
                    select(DocumentRecord.sha256, DocumentRecord.fingerprint)
                )
                if near_duplicate(fingerprint, other)
            }
        found |= {
            i
            for i in session.scalars(
                select(Attachment.post_id).where(
                    Attachment.sha256.in_(hashes), Attachment.post_id.is_not(None)
                )
            )
            if i is not None
        }
        for url in session.scalars(select(LinkFetch.url).where(LinkFetch.sha256.in_(hashes))):
            found |= {post.id for post in linkcheck.posts_leading_to(session, url)}
    else:
        column = PostLink.normal_url if kind == "url" else PostLink.domain
        found |= set(session.scalars(select(PostLink.post_id).where(column == value)))
        if kind == "url":
            found |= {post.id for post in linkcheck.posts_leading_to(session, value)}
    live = session.scalars(select(Post.id).where(Post.id.in_(found), Post.deleted_at.is_(None)))
    return sorted(live)
