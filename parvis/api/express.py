"""An express lane for the API's busiest reads: the home and public timelines.

Apps poll these far more than anything else, and on a timeline request FastAPI's own work
(routing, dependency solving, the exception middleware and the per-route wrappers) cost about a
quarter of the CPU (bench/timeline.py, profiled with py-spy). The lane calls the very endpoint
functions the routes call, with the same parameter readers, so a page is byte-for-byte the same
either way; it only skips the framework in between. It sits inside the shield, the body limit
and the security headers, so every rule that applies to the route applies here too.

Only the plain success path takes the lane. A request that would be refused (no token, a bad
parameter, a token without the scope) is handed to the app unchanged, which answers it exactly
as it always has: one error format, one place that writes it. The routes stay registered, for
the OpenAPI document and for those fallbacks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from parvis.api import timelines
from parvis.api.auth import caller, optional_caller
from parvis.api.pagination import page_params
from parvis.errors import ParvisError

Endpoint = Callable[[Request], Awaitable[Response]]


async def _home(request: Request) -> Response:
    return await timelines.home(request, await page_params(request), await caller(request))


async def _public(request: Request) -> Response:
    return await timelines.public(
        request, await page_params(request), await optional_caller(request)
    )


LANES: dict[str, Endpoint] = {
    "/api/v1/timelines/home": _home,
    "/api/v1/timelines/public": _public,
}


class ExpressLane:
    """Plain ASGI middleware: GET requests for a path in `LANES` go straight to its endpoint;
    everything else, and every request the endpoint refuses, goes on to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = LANES.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        try:
            response = await endpoint(Request(scope, receive))
        except ParvisError:
            # Nothing has been sent yet and the lane only reads: the app answers instead.
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
