"""The waiting line: a join storm is let in at a controlled rate, first come first served,
and nobody is refused.

Each process has one line (the joins it must do the work for). A newcomer takes the next
ticket; every `tick` seconds the line lets in as many people as the rate allows, in ticket
order. While waiting, a client is told its position and the expected wait (position ÷ rate).
People who leave the line are skipped without using up the rate, so the position shown is at
most the true number of people ahead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field

from parvis.live import metrics


@dataclass
class Ticket:
    """One place in the line."""

    number: int
    admitted: asyncio.Event = field(default_factory=asyncio.Event)
    left: bool = False
    queued_at: float = field(default_factory=time.monotonic)


class WaitingLine:
    """FIFO admission at `rate` per second with bursts up to `burst`."""

    def __init__(self, rate: float, burst: int, tick: float = 0.02) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.tick = tick
        self._line: deque[Ticket] = deque()
        self._issued = 0
        self._served = 0  # tickets admitted or skipped: the number at the head of the line
        self._tokens = float(burst)
        self._last = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._line)

    def join(self) -> Ticket:
        """Take a ticket. Admitted at once if the line is empty and the rate allows it."""
        self._issued += 1
        ticket = Ticket(self._issued)
        self._refill()
        if not self._line and self._tokens >= 1:
            self._tokens -= 1
            self._served = ticket.number
            ticket.admitted.set()
            metrics.ADMITTED.inc()
            return ticket
        self._line.append(ticket)
        metrics.WAITING.set(len(self._line))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return ticket

    def leave(self, ticket: Ticket) -> None:
        """The client went away before being admitted."""
        ticket.left = True

    def position(self, ticket: Ticket) -> int:
        """How many people are ahead (an upper bound: some may have left), 0 once admitted."""
        if ticket.admitted.is_set():
            return 0
        return max(1, ticket.number - self._served)

    def expected_wait(self, ticket: Ticket) -> float:
        """Seconds until admission at the current rate."""
        return round(self.position(ticket) / self.rate, 1)

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now

    def admit_due(self) -> int:
        """Let in as many as the rate allows now; returns how many were admitted."""
        self._refill()
        admitted = 0
        while self._line and self._tokens >= 1:
            ticket = self._line.popleft()
            self._served = ticket.number
            if ticket.left:
                continue
            self._tokens -= 1
            ticket.admitted.set()
            admitted += 1
        metrics.ADMITTED.inc(admitted)
        metrics.WAITING.set(len(self._line))
        return admitted

    async def _run(self) -> None:
        while self._line:
            await asyncio.sleep(self.tick)
            self.admit_due()

    async def close(self) -> None:
        """Stop the admitting task (everyone still waiting stays unadmitted)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
