"""The shield's admin page: what it refused and why, the concurrency limit and event-loop lag
over the last half hour (server-rendered SVG, no script), and the "under attack" switch."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from parvis.errors import PermissionDenied
from parvis.shield import metrics
from parvis.shield.middleware import ShieldState
from parvis.web.common import redirect
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter(prefix="/admin/shield")
CHART_WIDTH = 600
CHART_HEIGHT = 120


@dataclass(frozen=True)
class Series:
    """One line of a chart: its name, colour class, SVG points and latest value."""

    name: str
    css: str
    points: str
    latest: float


@dataclass(frozen=True)
class Chart:
    """A small line chart: title, unit, its series and the top of its scale."""

    title: str
    unit: str
    series: list[Series]
    top: float


def _require_admin(page: Page) -> None:
    user = page.require_user()
    if not user.is_admin:
        raise PermissionDenied("Only admins can open the shield's page.")


def _chart(title: str, unit: str, lines: list[tuple[str, str, list[float]]]) -> Chart:
    top = max([1.0, *(value for _, _, values in lines for value in values)])
    series = []
    for name, css, values in lines:
        if not values:
            series.append(Series(name, css, "", 0.0))
            continue
        step = CHART_WIDTH / max(1, len(values) - 1)
        points = " ".join(
            f"{index * step:.1f},{CHART_HEIGHT - value / top * CHART_HEIGHT:.1f}"
            for index, value in enumerate(values)
        )
        series.append(Series(name, css, points, values[-1]))
    return Chart(title, unit, series, top)


def _charts(state: ShieldState) -> list[Chart]:
    points = list(state.history.points)
    pairs = list(itertools.pairwise(points))

    def per_second(attribute: str) -> list[float]:
        return [
            max(0.0, (getattr(b, attribute) - getattr(a, attribute)) / max(0.001, b.at - a.at))
            for a, b in pairs
        ]

    return [
        _chart(
            "Requests per second",
            "req/s",
            [
                ("served", "served", per_second("served")),
                ("rate-limited (429)", "limited", per_second("limited")),
                ("shed (503)", "shed", per_second("shed")),
                ("challenged", "challenged", per_second("challenged")),
            ],
        ),
        _chart(
            "Concurrency limit and requests in flight",
            "requests",
            [
                ("limit", "limit", [p.limit for p in points]),
                ("in flight", "inflight", [p.inflight for p in points]),
            ],
        ),
        _chart("Event-loop lag", "ms", [("lag", "lag", [p.lag_ms for p in points])]),
    ]


@router.get("")
def shield_page(request: Request, page: Page = Depends(load_page)) -> Response:
    """The shield's figures and the under-attack switch (admins only)."""
    _require_admin(page)
    state: ShieldState = request.app.state.shield
    gate = state.gate
    state.history.maybe_sample(gate.limit.value, gate.inflight, gate.probe.lag)
    return render(
        request,
        "shield/admin.html",
        {
            "state": state,
            "mode": state.mode.status(),
            "now": time.time(),
            "limit": gate.limit.value,
            "inflight": gate.inflight,
            "waiting": gate.waiting,
            "lag_ms": gate.probe.lag * 1000,
            "requests": metrics.totals_by_label(metrics.REQUESTS, "route_class"),
            "statuses": metrics.totals_by_label(metrics.REQUESTS, "status"),
            "refused": metrics.totals_by_label(metrics.REFUSED, "reason"),
            "refused_classes": metrics.totals_by_label(metrics.REFUSED, "route_class"),
            "charts": _charts(state),
            "chart_width": CHART_WIDTH,
            "chart_height": CHART_HEIGHT,
        },
    )


@router.post("/attack")
def switch_attack_mode(
    request: Request,
    page: Page = Depends(load_page),
    csrf_token: str = Form(""),
    on: str = Form(""),
) -> Response:
    """Switch "under attack" challenges on or off for every worker."""
    _require_admin(page)
    page.check_csrf(csrf_token)
    state: ShieldState = request.app.state.shield
    user = page.require_user()
    state.mode.set_manual(on == "1", user.username)
    return redirect("/admin/shield")
