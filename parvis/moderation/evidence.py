"""What a reviewer sees next to a post in the queue: the post's text with every signal span
marked, the documents it attaches or links and what was found in them, and the other posts that
carry the same links or documents with what was decided about each (so like is treated
alike)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.config import Settings
from parvis.moderation import documents, lists
from parvis.moderation.models import Decision, LinkFetch
from parvis.moderation.signals import inline, words
from parvis.moderation.signals.types import Signal
from parvis.social.models import Attachment, Post, PostLink

RELATED_LIMIT = 20


@dataclass(frozen=True)
class DocumentEvidence:
    """A document reached from the post and the signal kinds found in it."""

    via: str
    sha256: str
    pages: int
    kinds: list[str]
    listed: bool


@dataclass(frozen=True)
class RelatedPost:
    """Another post carrying the same link or document, and the decisions about it."""

    post_id: int
    author_id: int
    shared: str  # what it shares: a URL or "document <sha>"
    decisions: list[Decision]


@dataclass
class Evidence:
    """Everything the queue shows about one post."""

    marked_text: Markup
    kinds: list[str]
    documents: list[DocumentEvidence] = field(default_factory=list)
    related: list[RelatedPost] = field(default_factory=list)


def mark(text: str, signals: list[Signal]) -> Markup:
    """The text, escaped, with each signal's span wrapped in <mark> naming its kind
    (overlapping spans: the first one wins)."""
    parts: list[str] = []
    position = 0
    for signal in sorted(signals, key=lambda s: (s.start, -s.end)):
        if signal.end <= signal.start or signal.start < position:
            continue
        parts.append(escape(text[position : signal.start]))
        parts.append(
            f'<mark class="signal" title="{escape(signal.kind)}">'
            f"{escape(text[signal.start : signal.end])}</mark>"
        )
        position = signal.end
    parts.append(escape(text[position:]))
    return Markup("".join(parts))  # noqa: S704 - every piece above is escaped


def _related(session: Session, post: Post, urls: set[str], hashes: set[str]) -> list[RelatedPost]:
    shared: dict[int, str] = {}
    if urls:
        for post_id, normal in session.execute(
            select(PostLink.post_id, PostLink.normal_url).where(
                PostLink.normal_url.in_(list(urls)), PostLink.post_id != post.id
            )
        ):
            shared.setdefault(post_id, normal)
        document_urls = [
            document_url
            for listed in session.scalars(
                select(LinkFetch.document_urls).where(LinkFetch.url.in_(list(urls)))
            )
            for document_url in json.loads(listed)
        ]
        hashes |= {
            sha
            for sha in session.scalars(
                select(LinkFetch.sha256).where(LinkFetch.url.in_(document_urls + list(urls)))
            )
            if sha
        }
    if hashes:
        for attached_to, sha in session.execute(
            select(Attachment.post_id, Attachment.sha256).where(
                Attachment.sha256.in_(list(hashes)),
                Attachment.post_id.is_not(None),
                Attachment.post_id != post.id,
            )
        ):
            if attached_to is not None:
                shared.setdefault(attached_to, f"document {sha[:16]}…")
    if not shared:
        return []
    ids = sorted(shared, reverse=True)[:RELATED_LIMIT]
    posts = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(ids)))}
    found: dict[str, list[Decision]] = {}
    for decision in session.scalars(
        select(Decision)
        .where(Decision.subject_type == "post", Decision.subject_key.in_([str(i) for i in ids]))
        .order_by(Decision.id)
    ):
        found.setdefault(decision.subject_key, []).append(decision)
    return [
        RelatedPost(i, posts[i].author_id, shared[i], found.get(str(i), []))
        for i in ids
        if i in posts
    ]


def for_post(session: Session, settings: Settings, post: Post) -> Evidence:
    """The evidence about a post, as the review queue shows it."""
    on_list = lists.snapshot(session)
    text = post.body_source
    signals = inline.detect(text, on_list.urls, on_list.domains) + words.detect(text, on_list.words)
    urls = {s.evidence["url"] for s in signals if s.kind == "url"}
    found_docs = documents.attached(session, settings, post) + documents.linked(session, urls)
    evidence = Evidence(
        marked_text=mark(text, signals),
        kinds=sorted({s.kind for s in signals}),
    )
    for document in found_docs:
        record = document.record
        kinds = sorted({s.kind for s in inline.detect(record.text)})
        evidence.documents.append(
            DocumentEvidence(
                via=document.via,
                sha256=record.sha256,
                pages=record.pages,
                kinds=kinds,
                listed=record.sha256 in on_list.documents,
            )
        )
    hashes = {d.sha256 for d in evidence.documents}
    evidence.related = _related(session, post, urls, hashes)
    return evidence
