"""The waiting line: a join storm is let in at a controlled rate, first come first served,
and nobody is refused.

Each process has one line (the joins it must do the work for). A newcomer takes the next
ticket; every `tick` seconds the line lets in as many people as the rate allows, in ticket
order. While waiting, a client is told its position and the expected wait (position ÷ rate).
People who leave the line are skipped without using up the rate, so the position shown is at
most the true number of people ahead.

The configured rate is a ceiling. What a process can really take depends on what it already
does: every admitted listener costs a share of the fan-out, and a storm's handshakes cost CPU
before anyone is in line. So while joins are coming, the line watches the event loop: when a
timer runs later than `lag_limit`, the rate is cut by a quarter (at most every `CUT_EVERY`
seconds), and while the loop keeps time it climbs back by `RAMP` of the ceiling per second
(additive increase, multiplicative decrease, as TCP does). Listeners already in the room keep
their audio on time, and newcomers wait in the line, told their place and the wait at the rate
the process really admits, instead of in the kernel's accept queue, told nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field

from parvis.live import metrics

CUT_EVERY = 0.1  # seconds: one cut per burst of lateness, not one per late tick
CUT_FACTOR = 0.75
RAMP = 0.1  # of the ceiling per second of a punctual loop: from the floor to full in ~10 s
WATCH_AFTER_LAST_JOIN = 5.0  # seconds the loop is watched after the last join


@dataclass
class Ticket:
    """One place in the line."""

    number: int
    admitted: asyncio.Event = field(default_factory=asyncio.Event)
    left: bool = False
    queued_at: float = field(default_factory=time.monotonic)


class WaitingLine:
    """FIFO admission at `rate` per second with bursts up to `burst`."""

    def __init__(
        self,
        rate: float,
        burst: int,
        tick: float = 0.02,
        *,
        lag_limit: float | None = None,
        min_rate: float = 25.0,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.ceiling = rate
        self.rate = rate  # the rate in force: the ceiling, or less while the loop runs late
        self.burst = burst
        self.tick = tick
        self.lag_limit = lag_limit
        self.min_rate = min(min_rate, rate)
        self._line: deque[Ticket] = deque()
        self._issued = 0
        self._served = 0  # tickets admitted or skipped: the number at the head of the line
        self._tokens = float(burst)
        self._last = time.monotonic()
        self._last_join = 0.0
        self._last_cut = 0.0
        self._task: asyncio.Task[None] | None = None
        metrics.ADMISSION_RATE.set(rate)

    def __len__(self) -> int:
        return len(self._line)

    def join(self) -> Ticket:
        """Take a ticket. Admitted at once if the line is empty and the rate allows it."""
        self._issued += 1
        ticket = Ticket(self._issued)
        self._refill()
        self._last_join = ticket.queued_at
        if not self._line and self._tokens >= 1:
            self._tokens -= 1
            self._served = ticket.number
            ticket.admitted.set()
            metrics.ADMITTED.inc()
        else:
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

    def follow_lag(self, lag: float, now: float, elapsed: float) -> None:
        """Adjust the rate to how late the loop ran a timer (`lag` seconds), `elapsed` seconds
        after the previous adjustment."""
        if self.lag_limit is None:
            return
        if lag > self.lag_limit:
            if now - self._last_cut >= CUT_EVERY:
                self._last_cut = now
                self.rate = max(self.min_rate, self.rate * CUT_FACTOR)
        elif lag <= self.lag_limit / 2 and self.rate < self.ceiling:
            self.rate = min(self.ceiling, self.rate + self.ceiling * RAMP * elapsed)
        metrics.ADMISSION_RATE.set(self.rate)

    async def _run(self) -> None:
        """Admit the line's head as the rate allows; while joins keep coming, also time the
        loop (the sleep's overshoot is its lag) and follow it."""
        while True:
            started = time.monotonic()
            await asyncio.sleep(self.tick)
            now = time.monotonic()
            self.follow_lag(now - started - self.tick, now, now - started)
            self.admit_due()
            watching = self.lag_limit is not None and now - self._last_join <= WATCH_AFTER_LAST_JOIN
            if not self._line and not watching:
                break

    async def close(self) -> None:
        """Stop the admitting task (everyone still waiting stays unadmitted)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
