"""Keeping exact-count rate-limit tests clear of the edges of `limits`' clock-aligned windows."""

from __future__ import annotations

import time

import limits


def clear_of_a_window_edge(window_seconds: int, margin: float = 3.0) -> None:
    """Wait, if need be, until the next `margin` seconds hold no edge of the counters' windows.

    `limits`' sliding-window counters use windows aligned on the clock and weigh the last one
    by the share of it still in view, rounded down: a burst that straddles an edge may get one
    more than the limit (5 lines just before, then 4.99 rounds to 4). That is the documented
    approximation of the strategy; tests that count exactly keep clear of the edge.
    """
    into = time.time() % window_seconds
    if into > window_seconds - margin:
        time.sleep(window_seconds - into + 0.05)


def clear_of_the_edges_of(*values: str) -> None:
    """`clear_of_a_window_edge` for every window named in these settings' values that are
    rate-limit strings ("2/hour;9/day"); other values (addresses, names) are passed over."""
    windows: set[int] = set()
    for value in values:
        try:
            windows.update(item.get_expiry() for item in limits.parse_many(value))
        except ValueError:
            continue
    for window in sorted(windows):
        clear_of_a_window_edge(window)
