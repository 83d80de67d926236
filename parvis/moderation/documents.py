"""Documents moderation reads: the PDFs attached to a post and those its links lead to (the
link itself, or a PDF linked from a page the post links). Each is read once per content hash;
its text goes through the same detectors as posts and its fingerprint is matched against the
moderation lists."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from parvis.config import Settings
from parvis.moderation.models import DocumentRecord, FetchState, LinkFetch
from parvis.moderation.signals.documents import extract_text, fingerprint
from parvis.social.models import Attachment, Post
from parvis.storage.hot import HotSQL

# Hand-written (`storage.hot`): asked for every new post.
_ANY_DOCUMENT = HotSQL(
    "SELECT 1 FROM attachments WHERE post_id = :post AND kind = 'document' LIMIT 1"
)
_DOCUMENTS_OF_POST = select(Attachment).where(
    Attachment.post_id == bindparam("post"), Attachment.kind == "document"
)


@dataclass(frozen=True)
class FoundDocument:
    """A document reached from a post, and how: attached, or by which link."""

    record: DocumentRecord
    via: str  # "attachment" or the URL the document was fetched from

    def describe(self) -> str:
        """How a statement of reasons names it (no personal data: a hash and an address)."""
        if self.via == "attachment":
            return f"the attached document (SHA-256 {self.record.sha256[:16]}…)"
        return f"the document at {self.via} (SHA-256 {self.record.sha256[:16]}…)"


def record(session: Session, sha256: str, data: bytes) -> DocumentRecord:
    """The stored reading of a document, reading it now if it is new."""
    known = session.get(DocumentRecord, sha256)
    if known is not None:
        return known
    text = extract_text(data)
    row = DocumentRecord(
        sha256=sha256,
        fingerprint=fingerprint(text.text),
        text=text.text,
        pages=text.pages,
        truncated=text.truncated,
    )
    session.add(row)
    session.flush()
    return row


def attached(
    session: Session, settings: Settings, post: Post, *, any_known: bool | None = None
) -> list[FoundDocument]:
    """The post's attached PDFs, read (once per content) from the media folder. `any_known`:
    whether it attaches any document, when the caller has already asked the database."""
    found: list[FoundDocument] = []
    # Most posts attach no document: a Core existence check first, ORM rows only when needed.
    if any_known is None:
        any_known = bool(_ANY_DOCUMENT.rows(session, {"post": post.id}))
    if not any_known:
        return found
    for attachment in session.scalars(_DOCUMENTS_OF_POST, {"post": post.id}):
        row = session.get(DocumentRecord, attachment.sha256)
        if row is None:
            try:
                data = (settings.media_dir / attachment.storage_key).read_bytes()
            except OSError:
                continue
            row = record(session, attachment.sha256, data)
        found.append(FoundDocument(row, "attachment"))
    return found


def linked(session: Session, urls: Collection[str]) -> list[FoundDocument]:
    """Documents these (normalised) links lead to that the link checker has already read."""
    if not urls:
        return []
    fetches = list(session.scalars(select(LinkFetch).where(LinkFetch.url.in_(list(urls)))))
    document_urls: list[str] = []
    for fetch in fetches:
        document_urls += json.loads(fetch.document_urls)
    if document_urls:
        fetches += session.scalars(select(LinkFetch).where(LinkFetch.url.in_(document_urls)))
    found = []
    for fetch in fetches:
        if fetch.state == FetchState.DONE.value and fetch.sha256:
            row = session.get(DocumentRecord, fetch.sha256)
            if row is not None:
                found.append(FoundDocument(row, fetch.url))
    return found


def enqueue_links(session: Session, urls: Collection[str]) -> int:
    """Queue the (normalised) links the checker has not seen; returns how many were new."""
    if not urls:
        return 0
    known = set(session.scalars(select(LinkFetch.url).where(LinkFetch.url.in_(list(urls)))))
    added = 0
    for url in sorted(set(urls) - known):
        try:
            with session.begin_nested():
                session.add(LinkFetch(url=url, depth=0))
            added += 1
        except IntegrityError:
            pass  # queued by a concurrent post in the meantime
    return added


def fingerprint_of(session: Session, sha256: str) -> str:
    """The fingerprint of a document Parvis has read, or "" (used when listing a document)."""
    row = session.get(DocumentRecord, sha256)
    return row.fingerprint if row is not None else ""
