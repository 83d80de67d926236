"""The outbox: e-mails are queued in the database in the caller's transaction and delivered
after it commits, by a loop the server runs.

Why not send at once: an e-mail sent inside a transaction reaches people even when the
transaction then rolls back (a statement of reasons for a decision that does not exist), and an
SMTP server's delay (up to its 30 s timeout) held the transaction, and on SQLite every writer,
while it waited. Queued in the same transaction, a message exists exactly when what it tells
of does, survives a crash, and no request waits for mail. Several workers share the queue: each
claims a message before sending it, so a message goes out once (unless a worker dies between
sending and recording it: then it is sent again, since losing it would be worse).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from parvis.config import Settings
from parvis.mail import transport
from parvis.mail.models import OutgoingMail
from parvis.storage.base import utcnow
from parvis.storage.database import Database
from parvis.storage.direct import insert_values

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 0.5
BATCH = 50
MAX_ATTEMPTS = 10
RECLAIM_AFTER = timedelta(minutes=10)  # a claim older than this was abandoned


def queue(session: Session, to: str, subject: str, body: str) -> int:
    """Queue one e-mail in the caller's transaction (sent once it commits); returns its id.
    Written at once, without an ORM object (`storage.direct`): nothing reads it back before
    the sender does, and every statement of reasons queues one inline."""
    return insert_values(session, OutgoingMail, recipient=to, subject=subject, body=body)


def _claim(db: Database) -> list[OutgoingMail]:
    now = utcnow()
    due = or_(OutgoingMail.claimed_at.is_(None), OutgoingMail.claimed_at < now - RECLAIM_AFTER)
    pending = (OutgoingMail.sent_at.is_(None), OutgoingMail.attempts < MAX_ATTEMPTS, due)
    claimed = []
    with db.session() as session:
        ids = session.scalars(
            select(OutgoingMail.id).where(*pending).order_by(OutgoingMail.id).limit(BATCH)
        ).all()
        for mail_id in ids:
            taken = session.execute(
                update(OutgoingMail)
                .where(OutgoingMail.id == mail_id, *pending)
                .values(claimed_at=now, attempts=OutgoingMail.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(session.get_one(OutgoingMail, mail_id))
        session.expunge_all()
    return claimed


def deliver_pending(db: Database, settings: Settings) -> int:
    """Send what is queued (a batch at most); returns how many messages went out."""
    claimed = _claim(db)
    if not claimed:
        return 0
    messages = [
        transport.message(settings, m.recipient, m.subject, m.body, queue_id=m.id) for m in claimed
    ]
    ids = [m.id for m in claimed]
    try:
        transport.hand_over(settings, messages)
    except Exception as failure:  # SMTP down: released for a later round, the error kept
        with db.session() as session:
            session.execute(
                update(OutgoingMail)
                .where(OutgoingMail.id.in_(ids))
                .values(claimed_at=None, last_error=str(failure)[:2000])
            )
        raise
    with db.session() as session:
        session.execute(
            update(OutgoingMail).where(OutgoingMail.id.in_(ids)).values(sent_at=utcnow())
        )
    return len(ids)


def deliver_all(db: Database, settings: Settings) -> int:
    """Send everything queued now (for commands and tests, which run no loop)."""
    total = 0
    while sent := deliver_pending(db, settings):
        total += sent
    return total
