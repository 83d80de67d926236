"""Request body size limits, as plain ASGI middleware so every route is covered.

Starlette has no built-in body limit; checking Content-Length alone would miss chunked
uploads, so the received bytes are counted too.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parvis.config import Settings
from parvis.shield.classes import RouteClass, classify

# Route classes whose forms are a few fields: a much smaller body is enough.
SMALL_BODY_CLASSES = frozenset(
    {RouteClass.LOGIN, RouteClass.SIGNUP, RouteClass.PASSWORD_RESET, RouteClass.SEARCH}
)


class BodyTooLarge(Exception):
    """Raised inside the app when a streamed body passes the limit."""


class BodySizeLimit:
    """Refuse bodies larger than the route's limit with 413 and an explanation."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _refuse(scope, send, 400, "Malformed Content-Length header.")
                    return
                if declared > limit:
                    await _refuse(scope, send, 413, _message(limit))
                    return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await _refuse(scope, send, 413, _message(limit))


def per_route_class(settings: Settings, base: Callable[[str], int]) -> Callable[[str], int]:
    """`base`'s limit, lowered to `shield_small_body_bytes` for log-in, sign-up, password reset
    and search, whose forms are a few fields (a large body there is only ever an attack)."""
    small = settings.shield_small_body_bytes

    def limit_for(path: str) -> int:
        if classify("POST", path) in SMALL_BODY_CLASSES:
            return min(small, base(path))
        return base(path)

    return limit_for


def _message(limit: int) -> str:
    size = f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return f"Request body too large: this address accepts at most {size}."


async def _refuse(scope: Scope, send: Send, status: int, text: str) -> None:
    wants_json = scope["path"].startswith(("/api/", "/oauth/")) or any(
        name == b"accept" and b"application/json" in value for name, value in scope["headers"]
    )
    if wants_json:
        body = json.dumps({"error": text}).encode()
        content_type = b"application/json"
    else:
        body = (
            f"<!doctype html><title>Error {status}</title><h1>Error {status}</h1><p>{text}</p>"
        ).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
