"""The server's background loops (e-mail delivery, the end of temporary restrictions, live-room
reminders, the link checker), run one way.

Each round runs in a worker thread (a unit of work may wait for SQLite's write lock, and the
event loop must not) unless it is a coroutine (the link checker's network reads); a failed round
is logged and the loop goes on; a round that did something is followed at once by the next.
At shutdown the loops are asked to stop and the round under way finishes before the database is
closed: a thread cannot be cancelled, and one left running kept a connection the shutdown had
just closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("parvis.background")

Round = Callable[[], Any] | Callable[[], Awaitable[Any]]


class Background:
    """The loops of one application, started and stopped together."""

    def __init__(self) -> None:
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, name: str, work: Round, interval: float) -> None:
        """Run `work` every `interval` seconds (at once again when it returned something
        truthy: more may be waiting) until `stop`."""
        self._tasks.append(asyncio.create_task(self._loop(name, work, interval), name=name))

    async def _loop(self, name: str, work: Round, interval: float) -> None:
        while not self._stop.is_set():
            try:
                if inspect.iscoroutinefunction(work):
                    busy = await work()
                else:
                    busy = await asyncio.to_thread(work)
            except Exception:
                log.exception("%s: a round failed; the next one runs as planned", name)
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), interval)

    async def stop(self) -> None:
        """Ask every loop to stop and wait for the rounds under way to finish."""
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
