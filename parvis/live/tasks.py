"""The background task of `parvis serve` for live rooms: remind followers when a scheduled
room's start time comes. One query every `live_reminder_interval_seconds`; a room is reminded
once (`Room.reminded_at`), so several workers doing it at once only repeat a cheap query
(the update of `reminded_at` makes the second one find nothing)."""

from __future__ import annotations

import logging

from parvis.live import rooms
from parvis.runtime import Runtime

log = logging.getLogger("parvis.live")


def send_due(runtime: Runtime) -> None:
    """One round: remind followers of the rooms whose start has come."""
    with runtime.db.session() as session:
        rooms.send_due_reminders(session)
