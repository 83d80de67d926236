"""Finds the asyncio transport under a live-room WebSocket (see `relay.TransportSink` for why).

Under uvicorn the task running a WebSocket's ASGI application is the connection protocol's
`run_asgi` coroutine, whose protocol object holds the transport. Looking it up from the task,
rather than from the ASGI `send` callable, works however many middlewares wrap `send`. With
any other server (or the test client) nothing is found and the relay uses ASGI sends.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

# uvloop's transports are not registered as asyncio.WriteTransport subclasses: check by shape.
NEEDED = ("write", "get_write_buffer_size", "is_closing", "abort", "get_extra_info")


def current_protocol() -> Any | None:
    """The uvicorn protocol object serving this task's connection, if that is what runs us
    (its `transport` attribute is what its WebSocket implementation writes through)."""
    task = asyncio.current_task()
    if task is None:
        return None
    frame = getattr(task.get_coro(), "cr_frame", None)
    if frame is None or frame.f_code.co_name != "run_asgi":
        return None
    return frame.f_locals.get("self")


def current_transport() -> asyncio.WriteTransport | None:
    """The transport of the uvicorn connection this task serves, if that is what runs us."""
    transport: Any = getattr(current_protocol(), "transport", None)
    if transport is None or not all(hasattr(transport, name) for name in NEEDED):
        return None
    return cast(asyncio.WriteTransport, transport)
