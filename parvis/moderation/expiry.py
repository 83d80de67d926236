"""Temporary restrictions end by themselves: a background loop lifts each one whose end date
has come, records the end as a decision (`decisions.expire_due`, in the log like any other) and
tells the member it affected.

Reads already ignore a restriction past its end date; this loop is what removes it from the
tables the feeds filter on and what puts its end on record.
"""

from __future__ import annotations

import logging
from datetime import datetime

from parvis.accounts.services import Services
from parvis.moderation import decisions
from parvis.moderation.services import deliver
from parvis.storage.database import Database

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60.0


def expire(db: Database, services: Services, now: datetime | None = None) -> list[int]:
    """End every restriction due by `now`; returns the ids of the decisions recording the ends."""
    with db.session() as session:
        ended = decisions.expire_due(session, now)
        for record in ended:
            deliver(session, services, record)
        return [record.id for record in ended]
