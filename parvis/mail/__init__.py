"""Outgoing e-mail: queued in the database with what it tells of, delivered after commit as
`.eml` files in the outbox folder (default) or over SMTP."""

from __future__ import annotations

from sqlalchemy.orm import Session

from parvis.config import Settings
from parvis.mail.outbox import queue


class Mailer:
    """What services use to send e-mail: `send` queues a message in their transaction."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, session: Session, to: str, subject: str, body: str) -> int:
        """Queue a plain-text e-mail; it goes out once `session` commits (`mail.outbox`).
        Returns the queued message's id."""
        return queue(session, to, subject, body)
