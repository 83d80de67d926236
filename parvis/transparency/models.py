"""Which statements of reasons the EU Transparency Database has accepted (never sent twice)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from parvis.storage.base import Base, UTCDateTime, utcnow


class SubmissionState(enum.StrEnum):
    """A statement is claimed ('sending') before its batch is posted, then 'accepted'. A claim
    left by an interrupted run is checked against the database's PUID lookup before any resend."""

    SENDING = "sending"
    ACCEPTED = "accepted"


class DsaSubmission(Base):
    """One statement of reasons sent to the Transparency Database, keyed by its decision."""

    __tablename__ = "dsa_submissions"

    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), primary_key=True)
    puid: Mapped[str] = mapped_column(String(500), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=SubmissionState.SENDING.value)
    # What the database answered: its uuid and public page (empty when it already had the puid).
    remote_uuid: Mapped[str] = mapped_column(String(64), default="")
    permalink: Mapped[str] = mapped_column(String(500), default="")
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
