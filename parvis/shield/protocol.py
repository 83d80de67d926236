"""The HTTP connection limits uvicorn lacks, as its httptools protocol with two additions.

uvicorn arms no timer until a first response is sent, so a connection that sends nothing, or
trickles its request head a byte at a time (slowloris), is held open for ever; and its
httptools parser accepts a request head of any size (`h11_max_incomplete_event_size` applies to
the slower h11 parser only). This protocol gives every request head a deadline
(`serve_header_timeout_seconds`, counted from the connection, or from the first byte of a
later request on a kept-alive connection) and a size (`serve_max_header_bytes`: request line
and headers), answering 408 or 431 and closing. Written here because uvicorn has neither
option; `parvis serve` selects it (`http="parvis.shield.protocol:GuardedHttpToolsProtocol"`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from parvis.config import load_settings

PROTOCOL_PATH = "parvis.shield.protocol:GuardedHttpToolsProtocol"


@dataclass(frozen=True, slots=True)
class HeadLimits:
    """How long and how large a request head may be."""

    timeout: float
    max_bytes: int


@cache
def head_limits() -> HeadLimits:
    """The limits from the settings (read once per process: uvicorn builds the protocol without
    the app's settings, and worker processes inherit the same environment)."""
    settings = load_settings()
    return HeadLimits(settings.serve_header_timeout_seconds, settings.serve_max_header_bytes)


def _answer(status: bytes, message: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: "
        + str(len(message)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + message
    )


TOO_SLOW = _answer(b"408 Request Timeout", b"The request head did not arrive in time.\n")
TOO_LARGE = _answer(
    b"431 Request Header Fields Too Large", b"The request line and headers are too large.\n"
)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size limit on each request head."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the first request head's clock as soon as the connection is open."""
        limits = head_limits()
        self._head_timeout = limits.timeout
        self._head_max = limits.max_bytes
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._answered = False
        super().connection_made(transport)
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self._head_timeout, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, answer: bytes) -> None:
        self._disarm_head_timer()
        if not self.transport.is_closing():
            self._answered = True
            self.transport.write(answer)
            self.transport.close()

    def _head_too_slow(self) -> None:
        self._head_timer = None
        self._refuse(TOO_SLOW)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self._head_max:
            self._refuse(TOO_LARGE)
            # Stops the parser; uvicorn then tries to answer 400, which `send_400_response`
            # below leaves out since the 431 was sent.
            raise ValueError("request head too large")

    def on_message_begin(self) -> None:
        """A new request on the connection: its head gets the same deadline and size."""
        self._head_bytes = 0
        self._arm_head_timer()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        """Count the request line against the head's size."""
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count each header against the head's size."""
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head arrived in time: the body has its own timeout (the shield's)."""
        self._disarm_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's 400 for unparsable requests, unless this protocol already answered."""
        if not self._answered:
            super().send_400_response(msg)

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the head timer with the connection."""
        self._disarm_head_timer()
        super().connection_lost(exc)
