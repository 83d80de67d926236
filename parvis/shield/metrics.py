"""The shield's Prometheus metrics, on prometheus-client's default registry (so /metrics also
shows the live rooms' and the Python process's), and a short in-process history for the admin
page's charts.

With several workers each process counts its own requests: Prometheus scrapes are answered by
whichever worker takes the connection (run one scrape target per worker, or read the admin page,
which also shows one process).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

REQUESTS = Counter(
    "parvis_shield_requests_total",
    "Requests answered, by route class and HTTP status (refusals included).",
    ["route_class", "status"],
)
REFUSED = Counter(
    "parvis_shield_refused_total",
    "Requests refused by the shield, by reason (rate_limit, overload, challenge, body_timeout).",
    ["reason", "route_class"],
)
CONCURRENCY_LIMIT = Gauge(
    "parvis_shield_concurrency_limit", "The adaptive concurrency limit of this process."
)
INFLIGHT = Gauge("parvis_shield_inflight", "Requests holding a concurrency slot in this process.")
LOOP_LAG = Gauge(
    "parvis_shield_loop_lag_seconds", "Smoothed event-loop lag of this process (queueing delay)."
)
UNDER_ATTACK = Gauge(
    "parvis_shield_under_attack", "1 while anonymous page views must solve the challenge."
)
LATENCY = Histogram(
    "parvis_shield_request_seconds",
    "Time from the shield letting a request in to the application's last byte, by route class.",
    ["route_class"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0),
)

HISTORY_SECONDS = 5.0
HISTORY_POINTS = 360  # 30 minutes


@dataclass(frozen=True, slots=True)
class Point:
    """One sample of the history: totals so far and the gauges at that moment."""

    at: float
    served: float
    limited: float
    shed: float
    challenged: float
    limit: float
    inflight: float
    lag_ms: float


class History:
    """Samples taken at most every five seconds (when requests arrive) for the admin charts."""

    def __init__(self) -> None:
        self.points: deque[Point] = deque(maxlen=HISTORY_POINTS)
        self._last = 0.0

    def maybe_sample(self, limit: float, inflight: int, lag: float) -> None:
        """Record a point if the last one is old enough."""
        now = time.time()
        if now - self._last < HISTORY_SECONDS:
            return
        self._last = now
        CONCURRENCY_LIMIT.set(limit)
        INFLIGHT.set(inflight)
        LOOP_LAG.set(lag)
        self.points.append(
            Point(
                at=now,
                served=_total(REQUESTS) - _total(REFUSED),
                limited=_reason(REFUSED, "rate_limit"),
                shed=_reason(REFUSED, "overload"),
                challenged=_reason(REFUSED, "challenge"),
                limit=limit,
                inflight=inflight,
                lag_ms=lag * 1000,
            )
        )


def _total(counter: Counter) -> float:
    return sum(
        sample.value
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def _reason(counter: Counter, reason: str) -> float:
    return sum(
        sample.value
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("reason") == reason
    )


def totals_by_label(counter: Counter, label: str) -> dict[str, float]:
    """A counter's totals grouped by one label (for the admin page's tables)."""
    grouped: dict[str, float] = {}
    for metric in counter.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                key = sample.labels.get(label, "")
                grouped[key] = grouped.get(key, 0.0) + sample.value
    return dict(sorted(grouped.items()))


def exposition() -> tuple[bytes, str]:
    """The text exposition of every registered metric and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
