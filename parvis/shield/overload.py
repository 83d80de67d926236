"""Overload control: an adaptive concurrency limit with priority classes, and an event-loop lag
probe.

Two signals say the process is past what it can serve:

- **Latency of served requests.** Every half second the 90th percentile of the requests that
  finished is compared with a target; above it the concurrency limit is cut by 10 %, below it
  (and with the limit actually in use) it grows by one: additive increase, multiplicative
  decrease, as TCP and Netflix's `concurrency-limits` AIMD limiter do.
- **Event-loop lag.** One asyncio loop serves every request of a process, and work that runs
  on the loop without awaiting (SQLite reads, responses) is not "in flight" from the
  middleware's point of view: under a flood requests queue *before* the middleware, in the
  loop's ready queue. A probe waking every 20 ms measures how late it wakes (what Node's
  `toobusy` measures); when its last three wake-ups were all late by more than the target, the
  queue is persistently long (CoDel's test), not just held up once by a slow request.

Priorities (`classes.Priority`): health and metrics always pass; the lowest class (anonymous
requests, searches) is refused at once while the loop lags or when it would use more than its
share of the limit — cheap 503s, never a queue; members' reads and writes may wait a bounded
time for a slot (writes served first), then get 503 too. Members' reads are refused at once
only when the lag is ten times its target (a safety valve).

Hand-written because no maintained Python library does admission control inside an asyncio
server; the algorithm is the textbook one, kept small.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from parvis.shield.classes import Priority

WINDOW_SECONDS = 0.5
MIN_SAMPLES = 5
PROBE_INTERVAL = 0.02
LAG_SMOOTHING = 0.2  # weight of the newest probe in the displayed moving average
PERSISTENCE = 3  # consecutive late wake-ups that make congestion
SEVERE_LAG_FACTOR = 10.0
BACKOFF = 0.9


@dataclass(frozen=True, slots=True)
class OverloadSettings:
    """The knobs of overload control (from `Settings.shield_*`)."""

    initial: int = 32
    minimum: int = 4
    maximum: int = 256
    latency_target: float = 0.15  # seconds
    lag_target: float = 0.04  # seconds
    low_share: float = 0.5
    queue_wait: float = 0.1  # seconds
    queue_max: int = 64


class AdaptiveLimit:
    """The concurrency limit, moved by AIMD on the latency of finished requests."""

    def __init__(self, config: OverloadSettings) -> None:
        self.config = config
        self.value = float(max(config.minimum, min(config.maximum, config.initial)))
        self._samples: list[float] = []
        self._peak_inflight = 0
        self._window_start = time.monotonic()

    def record(self, latency: float, inflight: int, lagging: bool) -> None:
        """Note one finished request (its latency, the in-flight count it saw)."""
        self._samples.append(latency)
        self._peak_inflight = max(self._peak_inflight, inflight)
        now = time.monotonic()
        if now - self._window_start < WINDOW_SECONDS or len(self._samples) < MIN_SAMPLES:
            return
        ordered = sorted(self._samples)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        if p90 > self.config.latency_target or lagging:
            self.value = max(float(self.config.minimum), self.value * BACKOFF)
        elif self._peak_inflight >= 0.8 * self.value:
            self.value = min(float(self.config.maximum), self.value + 1.0)
        self._samples.clear()
        self._peak_inflight = 0
        self._window_start = now


class LagProbe:
    """Measures how late the event loop runs a timer: the queueing delay of the process.

    Like CoDel, congestion is a *persistent* delay: the last `PERSISTENCE` wake-ups were all
    late, not one long pause (a slow request, a first template compilation).
    """

    def __init__(self) -> None:
        self.lag = 0.0  # smoothed, for display
        self.recent: deque[float] = deque(maxlen=PERSISTENCE)
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def persistent(self) -> float:
        """The smallest of the last few lags: what every recent wake-up waited at least."""
        return min(self.recent) if len(self.recent) == PERSISTENCE else 0.0

    def ensure_running(self) -> None:
        """Start the probe on the running loop (again if the loop changed, as in tests)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._task is None or self._task.done():
            self._loop = loop
            self.lag = 0.0
            self.recent.clear()
            self._task = loop.create_task(self._run(), name="parvis-shield-lag-probe")

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(PROBE_INTERVAL)
            late = max(0.0, time.monotonic() - started - PROBE_INTERVAL)
            self.recent.append(late)
            self.lag += LAG_SMOOTHING * (late - self.lag)

    def stop(self) -> None:
        """Cancel the probe (application shutdown)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None


class Gate:
    """Admission with priorities under the adaptive limit."""

    def __init__(self, config: OverloadSettings, on_shed: Callable[[], None] | None = None) -> None:
        self.config = config
        self.limit = AdaptiveLimit(config)
        self.probe = LagProbe()
        self.inflight = 0
        self._waiting: dict[Priority, deque[asyncio.Future[None]]] = {
            Priority.CRITICAL: deque(),
            Priority.HIGH: deque(),
        }
        self._on_shed = on_shed

    @property
    def lagging(self) -> bool:
        """True while the event loop is persistently late by more than its target."""
        return self.probe.persistent() > self.config.lag_target

    @property
    def _severe(self) -> bool:
        return self.probe.persistent() > SEVERE_LAG_FACTOR * self.config.lag_target

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot."""
        return sum(len(queue) for queue in self._waiting.values())

    def admit_now(self, priority: Priority) -> bool:
        """Whether a request of this priority would be let in right now (no slot taken)."""
        if priority is Priority.EXEMPT:
            return True
        if priority is Priority.LOW:
            share = int(self.limit.value * self.config.low_share)
            return not self.lagging and self.waiting == 0 and self.inflight < share
        if priority is Priority.HIGH and self._severe:
            return False
        return self.inflight < self.limit.value and (
            priority is Priority.CRITICAL or not self._waiting[Priority.CRITICAL]
        )

    async def acquire(self, priority: Priority) -> bool:
        """Take a slot, waiting a bounded time for members' work; False means shed."""
        self.probe.ensure_running()
        if self.admit_now(priority):
            self.inflight += 1
            return True
        if (
            priority is Priority.LOW
            or self.config.queue_wait <= 0
            or self.waiting >= self.config.queue_max
            or (priority is Priority.HIGH and self._severe)
        ):
            self.shed()
            return False
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting[priority]
        queue.append(future)
        try:
            async with asyncio.timeout(self.config.queue_wait):
                await future
        except TimeoutError:
            if future.done() and not future.cancelled():
                return True  # the slot was handed over just as the wait ran out: keep it
            if future in queue:
                queue.remove(future)
            self.shed()
            return False
        return True

    def release(self, latency: float | None) -> None:
        """Give the slot back (to the most urgent waiter first); record the latency."""
        if latency is not None:
            self.limit.record(latency, self.inflight, self.lagging)
        if self.inflight > self.limit.value:  # the limit shrank: this slot goes away
            self.inflight -= 1
            return
        for priority in (Priority.CRITICAL, Priority.HIGH):
            queue = self._waiting[priority]
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result(None)  # the slot passes on; inflight is unchanged
                    return
        self.inflight -= 1

    def shed(self) -> None:
        """Count a refusal (for the automatic under-attack switch)."""
        if self._on_shed is not None:
            self._on_shed()
