"""Keeps the garbage collector's full collections out of join storms.

Why: CPython's cyclic collector (3.11) walks every object of its oldest generation on a full
collection, and it makes one whenever that generation has grown by a quarter since the last.
A join storm does exactly that: every connection brings a couple of hundred long-lived
objects (uvicorn's protocol and its WebSocket state machine, the ASGI scope, the frames of the
middleware chain waiting in `receive`, Starlette's WebSocket, the relay's sink), so the heap
grows many times over within seconds, and each full collection stops the event loop for
longer: 155 ms at 2,000 listeners, measured with `gc.callbacks` during `bench/live.py`, and
several hundred at 10,000 — which was most of the frame delay's 99th percentile.

What: as the application does once at start-up (`app.py` freezes what it built), the hub
moves what exists out of the collector's sight with `gc.freeze()` (constant time: the lists
are spliced) after every `FREEZE_EVERY` admitted connections, so collections only ever walk
what was allocated since. The price is that cyclic garbage among frozen objects — a closed
connection's — is not reclaimed while frozen. So once `RECLAIM_AFTER` connections have left
and no storm is under way (nobody in the waiting line, few joins lately), or at once when this
process serves no room any more, the hub unfreezes, collects once and freezes again: one pause
at a quiet moment instead of many in the storm. `pending_departures` says how many closed
connections may be holding memory.
"""

from __future__ import annotations

import gc
import logging
import time

from parvis.live import metrics

log = logging.getLogger("parvis.live")
FREEZE_EVERY = 100
RECLAIM_AFTER = 5_000


class HeapGuard:
    """Counts joins and departures and freezes or reclaims at the right moments."""

    def __init__(
        self, freeze_every: int = FREEZE_EVERY, reclaim_after: int = RECLAIM_AFTER
    ) -> None:
        self.freeze_every = freeze_every
        self.reclaim_after = reclaim_after
        self.pending_departures = 0
        self._joined = 0

    def joined(self) -> None:
        """A connection was admitted: freeze after every `freeze_every`."""
        self._joined += 1
        if self._joined >= self.freeze_every:
            self._joined = 0
            gc.freeze()
            metrics.HEAP_FREEZES.inc()

    def departed(self) -> None:
        """A connection closed; its cyclic garbage may be frozen."""
        self.pending_departures += 1

    def maybe_reclaim(self, *, quiet: bool, serving: bool) -> int | None:
        """Reclaim frozen garbage if it is worth a pause now: after `reclaim_after`
        departures in a quiet moment, or after any when no room is served. Returns the number
        of objects collected, or None if nothing was done."""
        if not self.pending_departures:
            return None
        if serving and not (quiet and self.pending_departures >= self.reclaim_after):
            return None
        started = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        self._joined = 0
        log.info(
            "live: reclaimed %d objects left by %d closed connections in %.0f ms",
            collected,
            self.pending_departures,
            1000 * (time.perf_counter() - started),
        )
        self.pending_departures = 0
        metrics.HEAP_RECLAIMS.inc()
        return collected
