"""The background task of `parvis serve` for live rooms: remind followers when a scheduled
room's start time comes. One query every `live_reminder_interval_seconds`; a room is reminded
once (`Room.reminded_at`), so several workers doing it at once only repeat a cheap query
(the update of `reminded_at` makes the second one find nothing)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from parvis.live import rooms
from parvis.runtime import Runtime

log = logging.getLogger("parvis.live")


async def remind_forever(runtime: Runtime) -> None:
    """Send due reminders, then sleep, until cancelled."""
    while True:
        try:
            with runtime.db.session() as session:
                rooms.send_due_reminders(session)
        except Exception:
            log.exception("live: sending room reminders failed")
        await asyncio.sleep(runtime.settings.live_reminder_interval_seconds)


@asynccontextmanager
async def reminders(runtime: Runtime) -> AsyncIterator[None]:
    """Run `remind_forever` for the lifetime of the application."""
    task = asyncio.create_task(remind_forever(runtime))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
