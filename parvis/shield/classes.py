"""Route classes: what kind of work a request is, from its method and path alone.

The class chooses the rate limits that apply, the largest body accepted and — with whether the
caller is signed in — the request's priority when the server is overloaded. Classification runs
before any routing, on every request, so it is a few string tests; the table below is kept in
step with the routes in parvis/web and parvis/api (tests/shield/test_classes.py walks them).
"""

from __future__ import annotations

import enum
import re


class RouteClass(enum.StrEnum):
    """The kinds of request the shield tells apart."""

    LOGIN = "login"
    SIGNUP = "signup"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a class name
    POSTING = "posting"
    WRITES = "writes"
    SEARCH = "search"
    NOTICES = "notices"
    READS = "reads"
    LIVE = "live"
    STATIC = "static"
    HEALTH = "health"
    METRICS = "metrics"
    CHALLENGE = "challenge"


class Priority(enum.IntEnum):
    """Who is served first when the server is over its concurrency limit (higher first)."""

    LOW = 0  # anonymous requests, and searches by anyone
    HIGH = 1  # signed-in members' reads
    CRITICAL = 2  # signed-in members' writes and live-room connections
    EXEMPT = 3  # health and metrics: always answered


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Classes whose limits are per address even for signed-in members: nobody is signed in yet.
ANONYMOUS_BY_NATURE = frozenset({RouteClass.LOGIN, RouteClass.SIGNUP, RouteClass.PASSWORD_RESET})
# Classes neither rate-limited nor shed.
UNLIMITED = frozenset({RouteClass.HEALTH, RouteClass.METRICS, RouteClass.STATIC})
# Long-lived connections: admitted or refused at the start, never holding a concurrency slot.
LONG_LIVED = frozenset({RouteClass.LIVE})

HEALTH_PATHS = frozenset({"/health", "/healthz", "/api/v1/streaming/health"})
_EXACT_WRITES = {
    "/login": RouteClass.LOGIN,
    "/oauth/token": RouteClass.LOGIN,
    "/signup": RouteClass.SIGNUP,
    "/api/v1/accounts": RouteClass.SIGNUP,
    "/verify-email/resend": RouteClass.SIGNUP,
    "/forgot-password": RouteClass.PASSWORD_RESET,
    "/reset-password": RouteClass.PASSWORD_RESET,
    "/compose": RouteClass.POSTING,
    "/articles/new": RouteClass.POSTING,
    "/live/new": RouteClass.POSTING,
    "/api/v1/statuses": RouteClass.POSTING,
    "/api/parvis/v1/articles": RouteClass.POSTING,
    "/api/v1/media": RouteClass.POSTING,
    "/api/v2/media": RouteClass.POSTING,
    "/report": RouteClass.NOTICES,
    "/api/v1/reports": RouteClass.NOTICES,
}
_PATTERN_WRITES = (
    (re.compile(r"^/posts/\d+/edit$"), RouteClass.POSTING),
    (re.compile(r"^/api/v1/statuses/\d+$"), RouteClass.POSTING),  # PUT = edit (DELETE too)
    (re.compile(r"^/(notices|statements)/\d+/appeal$"), RouteClass.NOTICES),
    (re.compile(r"^/api/parvis/v1/decisions/\d+/appeals$"), RouteClass.NOTICES),
)
_SEARCH_PATHS = frozenset({"/search", "/api/v2/search", "/api/v1/accounts/search"})


def classify(method: str, path: str, *, websocket: bool = False) -> RouteClass:
    """The class of a request (`websocket` for WebSocket handshakes)."""
    if websocket or path.startswith("/api/v1/streaming"):
        return RouteClass.HEALTH if path in HEALTH_PATHS else RouteClass.LIVE
    if path in HEALTH_PATHS:
        return RouteClass.HEALTH
    if path == "/metrics":
        return RouteClass.METRICS
    if path.startswith(("/static/", "/media/")) or path == "/favicon.ico":
        return RouteClass.STATIC
    if path.startswith("/_shield/"):
        return RouteClass.CHALLENGE
    if method in SAFE_METHODS:
        return RouteClass.SEARCH if path in _SEARCH_PATHS else RouteClass.READS
    found = _EXACT_WRITES.get(path)
    if found is not None:
        return found
    for pattern, route_class in _PATTERN_WRITES:
        if pattern.match(path):
            return route_class
    return RouteClass.WRITES


def priority(route_class: RouteClass, *, signed_in: bool) -> Priority:
    """How early this request is served under overload: members' writes and live rooms first,
    members' reads next, anonymous work and every search last."""
    if route_class in (RouteClass.HEALTH, RouteClass.METRICS):
        return Priority.EXEMPT
    if route_class is RouteClass.LIVE:
        return Priority.CRITICAL
    if not signed_in or route_class is RouteClass.SEARCH:
        return Priority.LOW
    if route_class in (RouteClass.READS, RouteClass.STATIC, RouteClass.CHALLENGE):
        return Priority.HIGH
    return Priority.CRITICAL
