"""Tables owned by moderation: decisions (with their statements of reasons) and the effects
they put in force. Only `moderation.decisions` writes them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from parvis.storage.base import Base, UTCDateTime, utcnow


class SubjectType(enum.StrEnum):
    """What a decision is about."""

    POST = "post"
    ACCOUNT = "account"
    URL = "url"
    DOMAIN = "domain"
    # A live room ("<room id>") or a speaker in it ("<room id>/<user id>"); see live.enforcement.
    ROOM = "room"


class Action(enum.StrEnum):
    """The proportionate ladder, narrowest first, plus restoring and declining to act."""

    LABEL = "label"
    INTERSTITIAL = "interstitial"
    DEMOTE = "demote"
    BLOCK_URL = "block_url"
    REMOVE = "remove"
    RESTRICT_ACCOUNT = "restrict_account"
    SUSPEND = "suspend"
    TERMINATE = "terminate"
    RESTORE = "restore"
    NO_ACTION = "no_action"


class Source(enum.StrEnum):
    """How the matter reached moderation (DSA source types, plus legal orders)."""

    NOTICE = "notice"
    TRUSTED_FLAGGER = "trusted_flagger"
    OTHER_NOTIFICATION = "other_notification"
    OWN_INITIATIVE = "own_initiative"
    LEGAL_ORDER = "legal_order"


class Automation(enum.StrEnum):
    """Whether a person took part in the decision."""

    FULLY = "fully"
    PARTIALLY = "partially"
    NOT_AUTOMATED = "not_automated"


class DecisionState(enum.StrEnum):
    """A decision's life: proposed ones wait in the review queue; others are in force or over."""

    PROPOSED = "proposed"
    IN_EFFECT = "in_effect"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    DECLINED = "declined"


# The partial index's predicate, written the same way in the query it serves: SQLite uses a
# partial index only for a WHERE that repeats its predicate (SQLAlchemy's `= 1` does not).
STATEMENT_PENDING = text("statement_pending")


class Decision(Base):
    """One moderation decision. Rows are never edited except for their state (and the
    delivery of their statement: still to deliver, failures, next try); a later decision
    (reversal, expiry, modification) supersedes an earlier one."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_subject", "subject_type", "subject_key", "state"),
        Index("ix_decisions_affected_user", "affected_user_id", "id"),
        Index("ix_decisions_state_ends", "state", "ends_at"),
        Index(
            "ix_decisions_statement_pending",
            "id",
            sqlite_where=STATEMENT_PENDING,
            postgresql_where=STATEMENT_PENDING,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    # Post or account id as text, or the normalised URL / registrable domain.
    subject_key: Mapped[str] = mapped_column(String(2048))
    affected_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rule_id: Mapped[str] = mapped_column(String(64))
    rulebook_version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(24))
    # For restrict_account: comma-separated features taken away (e.g. "links,posting").
    features: Mapped[str] = mapped_column(String(200), default="")
    # Facts and circumstances, public and free of personal data (DSA Art. 24(5)).
    facts: Mapped[str] = mapped_column(Text)
    automated_detection: Mapped[bool] = mapped_column(Boolean)
    automated_decision: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(24))
    notice_id: Mapped[int | None] = mapped_column(Integer)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    territorial_scope: Mapped[str] = mapped_column(String(200))  # space-separated ISO codes
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    state: Mapped[str] = mapped_column(String(16), default=DecisionState.IN_EFFECT.value)
    # The statement of reasons in the Transparency Database's JSON shape.
    statement_json: Mapped[str] = mapped_column(Text, default="")
    # Its statement of reasons is still to be delivered to the affected member (notification
    # and e-mail): the decision row is the delivery's outbox (`moderation.statement_outbox`).
    statement_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    # Its deliveries that failed so far, and when the next may be tried (the outbox's backoff,
    # kept here so that every worker and a restarted server keep to it).
    statement_failures: Mapped[int] = mapped_column(Integer, default=0)
    statement_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def puid(self) -> str:
        """The platform-unique identifier used in the statement of reasons."""
        return f"parvis-decision-{self.id}"


class PostRestriction(Base):
    """The restriction in force on a post, kept in step with decisions for cheap reads."""

    __tablename__ = "post_restrictions"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    action: Mapped[str] = mapped_column(String(24))
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccountRestriction(Base):
    """A restriction in force on an account (features, suspension, termination)."""

    __tablename__ = "account_restrictions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    action: Mapped[str] = mapped_column(String(24))
    features: Mapped[str] = mapped_column(String(200), default="")
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BlockedLink(Base):
    """A URL or registrable domain whose sharing is blocked by a decision."""

    __tablename__ = "blocked_links"

    key: Mapped[str] = mapped_column(String(2048), primary_key=True)  # "url:..." or "domain:..."
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NoticeState(enum.StrEnum):
    """A notice's life from receipt to outcome."""

    RECEIVED = "received"
    ACTIONED = "actioned"
    NO_ACTION = "no_action"
    UNFOUNDED = "unfounded"  # manifestly unfounded (counts towards notifier misuse)


class TrustedFlagger(Base):
    """An organisation whose notices are handled first (DSA Art. 22), designated by an admin."""

    __tablename__ = "trusted_flaggers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Notices from this member account (the organisation's account) count as trusted.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    designated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Withdrawn designations stay on record (notices sent under them point here).
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def active(self) -> bool:
        """True until an admin withdraws the designation."""
        return self.revoked_at is None


class Notice(Base):
    """A report of allegedly illegal or rule-breaking content (DSA Art. 16)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_state_priority", "state", "priority", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_key: Mapped[str] = mapped_column(String(2048))
    location: Mapped[str] = mapped_column(String(2048))  # the exact URL the notifier gave
    category: Mapped[str] = mapped_column(String(80))  # a DSA STATEMENT_CATEGORY_* code
    rule_id: Mapped[str | None] = mapped_column(String(64))
    explanation: Mapped[str] = mapped_column(Text)
    notifier_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notifier_name: Mapped[str] = mapped_column(String(200), default="")
    notifier_email: Mapped[str] = mapped_column(String(254), default="")
    good_faith: Mapped[bool] = mapped_column(Boolean)
    trusted_flagger_id: Mapped[int | None] = mapped_column(ForeignKey("trusted_flaggers.id"))
    # Lower sorts first in the review queue: 0 trusted flagger, 1 illegal content, 2 other.
    priority: Mapped[int] = mapped_column(Integer, default=2)
    state: Mapped[str] = mapped_column(String(16), default=NoticeState.RECEIVED.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    outcome_text: Mapped[str] = mapped_column(Text, default="")


class AppealState(enum.StrEnum):
    """An internal complaint's outcome (DSA Art. 20)."""

    OPEN = "open"
    UPHELD = "upheld"
    REVERSED = "reversed"
    MODIFIED = "modified"


class Appeal(Base):
    """A complaint against a decision (or against a decision not to act on a notice)."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    appellant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=AppealState.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome_decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))


class RulebookVersion(Base):
    """A published rulebook version, stored whole. Rows are never updated or deleted."""

    __tablename__ = "rulebook_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ListEntry(Base):
    """A moderation-list entry (e.g. hacked materials): who added it, when, under which rule."""

    __tablename__ = "list_entries"
    __table_args__ = (Index("ix_list_entries_lookup", "list_name", "kind", "value", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # url | domain | document (SHA-256)
    value: Mapped[str] = mapped_column(String(2048))
    rule_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # For document entries: the SimHash of the document's text when Parvis has read it, so
    # re-saved copies (other bytes, same text) match too.
    fingerprint: Mapped[str] = mapped_column(String(16), default="")


class DocumentRecord(Base):
    """A document Parvis has read (attached or linked), by content: its text and fingerprint."""

    __tablename__ = "document_texts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)
    pages: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    extracted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FetchState(enum.StrEnum):
    """Where a linked address is in the link checker's work."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    REFUSED = "refused"


class LinkFetch(Base):
    """A linked address the link checker reads: a page (and the documents it links, one level
    down) or a document itself. Keyed by normalised URL, shared by every post that links it."""

    __tablename__ = "link_fetches"
    __table_args__ = (Index("ix_link_fetches_state", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)  # 0 linked by a post, 1 by a page
    state: Mapped[str] = mapped_column(String(16), default=FetchState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status_code: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(128), default="")
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    document_urls: Mapped[str] = mapped_column(Text, default="[]")  # JSON list, pages only
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NoticeAssignment(Base):
    """The moderator handling a notice (Mastodon's report assignment); one per notice."""

    __tablename__ = "notice_assignments"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    moderator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ListEntryRemoval(Base):
    """A moderation-list entry taken off its list: what it was, under which rule, who removed
    it and why. Entries are deleted from `list_entries`; their removal is recorded here."""

    __tablename__ = "list_entry_removals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Integer)
    list_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2048))
    rule_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
