"""The shield's own responses: refusals (JSON for API clients, a small HTML page for browsers)
written straight to ASGI, so refusing costs no routing, no template and no database."""

from __future__ import annotations

import html

import orjson
from starlette.types import Scope, Send

JSON_PREFIXES = ("/api/", "/oauth/", "/.well-known/", "/nodeinfo/", "/health", "/metrics")
TITLES = {
    403: "Checking your browser",
    408: "Request too slow",
    429: "Slow down",
    503: "Busy right now",
}
Headers = list[tuple[bytes, bytes]]


def wants_json(scope: Scope) -> bool:
    """API paths, and clients asking for JSON rather than HTML, get JSON."""
    if scope["path"].startswith(JSON_PREFIXES):
        return True
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"application/json" in value and b"text/html" not in value
    return False


def html_page(status: int, message: str, extra: str = "") -> bytes:
    """A minimal page in the site's style (CSP allows only our stylesheet and scripts)."""
    title = TITLES.get(status, "Error")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{title}</title><link rel="stylesheet" href="/static/parvis.css"></head>'
        f'<body><main id="main"><h1>{title}</h1><p>{html.escape(message)}</p>{extra}'
        "</main></body></html>"
    ).encode()


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: Headers | None = None,
) -> None:
    """Send a complete response."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def refuse(
    scope: Scope, send: Send, status: int, message: str, headers: Headers | None = None
) -> None:
    """Refuse an HTTP request or a WebSocket handshake with a clear message."""
    if scope["type"] == "websocket":
        await refuse_websocket(scope, send, status, message, headers)
        return
    if wants_json(scope):
        await respond(send, status, orjson.dumps({"error": message}), b"application/json", headers)
    else:
        await respond(
            send, status, html_page(status, message), b"text/html; charset=utf-8", headers
        )


async def refuse_websocket(
    scope: Scope, send: Send, status: int, message: str, headers: Headers | None
) -> None:
    """Refuse a handshake: an HTTP response where the server supports it (uvicorn does, via
    the ASGI `websocket.http.response` extension), otherwise close code 1013 "try again
    later" (1008 "policy violation" for limits)."""
    if "websocket.http.response" in scope.get("extensions", {}):
        body = orjson.dumps({"error": message})
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *(headers or []),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send(
        {"type": "websocket.close", "code": 1008 if status == 429 else 1013, "reason": message}
    )
