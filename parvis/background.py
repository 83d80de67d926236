"""The server's background loops (e-mail delivery, the end of temporary restrictions, live-room
reminders, the link checker), run one way.

Each round runs in a worker thread (a unit of work may wait for SQLite's write lock, and the
event loop must not) unless it is a coroutine (the link checker's network reads); a failed round
is logged and the loop goes on; a round that did something is followed at once by the next.
At shutdown the loops are asked to stop and the round under way finishes before the database is
closed: a thread cannot be cancelled, and one left running kept a connection the shutdown had
just closed. A loop can also be woken before its interval is up (`wake`, from any thread): work
queued by a request that has just committed is then done at once rather than on the next round.
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
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._wakers: dict[str, asyncio.Event] = {}
        self._loop_running: asyncio.AbstractEventLoop | None = None

    def start(self, name: str, work: Round, interval: float) -> None:
        """Run `work` every `interval` seconds (at once again when it returned something
        truthy: more may be waiting, or when woken) until `stop`."""
        self._loop_running = asyncio.get_running_loop()
        self._wakers[name] = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._loop(name, work, interval), name=name))

    def wake(self, name: str) -> None:
        """Run loop `name`'s next round now rather than at the end of its interval (safe
        from any thread; nothing happens once the loops have stopped)."""
        loop, event = self._loop_running, self._wakers.get(name)
        if loop is None or event is None or self._stopping or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(event.set)

    async def _loop(self, name: str, work: Round, interval: float) -> None:
        woken = self._wakers[name]
        while not self._stopping:
            woken.clear()
            try:
                if inspect.iscoroutinefunction(work):
                    busy = await work()
                else:
                    busy = await asyncio.to_thread(work)
            except Exception:
                log.exception("%s: a round failed; the next one runs as planned", name)
                busy = False
            if not busy and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), interval)

    async def stop(self) -> None:
        """Ask every loop to stop and wait for the rounds under way to finish."""
        self._stopping = True
        for event in self._wakers.values():
            event.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
