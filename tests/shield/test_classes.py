"""Route classes of the real web and API routes."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from fastapi import FastAPI

from parvis.shield.classes import Priority, RouteClass, classify, priority


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/login", RouteClass.LOGIN),
        ("POST", "/oauth/token", RouteClass.LOGIN),
        ("POST", "/signup", RouteClass.SIGNUP),
        ("POST", "/api/v1/accounts", RouteClass.SIGNUP),
        ("POST", "/forgot-password", RouteClass.PASSWORD_RESET),
        ("POST", "/reset-password", RouteClass.PASSWORD_RESET),
        ("POST", "/compose", RouteClass.POSTING),
        ("POST", "/api/v1/statuses", RouteClass.POSTING),
        ("PUT", "/api/v1/statuses/12", RouteClass.POSTING),
        ("POST", "/posts/3/edit", RouteClass.POSTING),
        ("POST", "/api/v2/media", RouteClass.POSTING),
        ("POST", "/posts/3/vote", RouteClass.WRITES),
        ("POST", "/api/v1/statuses/3/favourite", RouteClass.WRITES),
        ("GET", "/search", RouteClass.SEARCH),
        ("GET", "/api/v2/search", RouteClass.SEARCH),
        ("GET", "/api/v1/accounts/search", RouteClass.SEARCH),
        ("POST", "/report", RouteClass.NOTICES),
        ("POST", "/api/v1/reports", RouteClass.NOTICES),
        ("POST", "/statements/4/appeal", RouteClass.NOTICES),
        ("GET", "/public", RouteClass.READS),
        ("GET", "/api/v1/timelines/home", RouteClass.READS),
        ("GET", "/api/v1/streaming/user", RouteClass.LIVE),
        ("GET", "/health", RouteClass.HEALTH),
        ("GET", "/healthz", RouteClass.HEALTH),
        ("GET", "/metrics", RouteClass.METRICS),
        ("GET", "/static/parvis.css", RouteClass.STATIC),
    ],
)
def test_routes_fall_in_their_class(method: str, path: str, expected: RouteClass) -> None:
    assert classify(method, path) is expected


def test_websockets_are_live() -> None:
    assert classify("GET", "/live/rooms/3/ws", websocket=True) is RouteClass.LIVE
    assert classify("GET", "/api/v1/streaming", websocket=True) is RouteClass.LIVE


def test_every_state_changing_route_of_the_app_is_outside_reads(app: FastAPI) -> None:
    """Walk the real routes: no POST/PUT/PATCH/DELETE is counted as a read or a search."""
    seen = 0
    for method, path in _routes(app.router.routes):
        if method in {"POST", "PUT", "PATCH", "DELETE"}:
            concrete = path.replace("{", "").replace("}", "").replace(":int", "")
            concrete = concrete.replace("post_id", "1").replace("status_id", "1")
            assert classify(method, concrete) not in (RouteClass.READS, RouteClass.SEARCH), path
            seen += 1
    assert seen > 50


def _routes(routes: Sequence[object], prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found += _routes(inner.routes, prefix + getattr(context, "prefix", ""))
            continue
        for method in getattr(route, "methods", None) or ():
            found.append((method, prefix + str(getattr(route, "path", ""))))
    return found


def test_priorities_put_members_writes_and_live_first() -> None:
    assert priority(RouteClass.POSTING, signed_in=True) is Priority.CRITICAL
    assert priority(RouteClass.LIVE, signed_in=False) is Priority.CRITICAL
    assert priority(RouteClass.READS, signed_in=True) is Priority.HIGH
    assert priority(RouteClass.READS, signed_in=False) is Priority.LOW
    assert priority(RouteClass.SEARCH, signed_in=True) is Priority.LOW
    assert priority(RouteClass.HEALTH, signed_in=False) is Priority.EXEMPT
