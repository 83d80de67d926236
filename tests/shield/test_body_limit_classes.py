"""Slow and oversized clients: small bodies for log-in and the like, a body-read timeout."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from parvis.config import Settings
from parvis.runtime import Runtime
from parvis.shield.middleware import Shield, ShieldState
from tests.shield.conftest import ClientFor, MakeApp


def test_log_in_takes_only_a_small_body(make_app: MakeApp, client_for: ClientFor) -> None:
    client = client_for(make_app(shield_small_body_bytes=2048))
    refused = client.post("/login", content=b"x" * 4096, headers={"accept": "text/html"})
    assert refused.status_code == 413
    assert "at most 2 KB" in refused.text
    # Posting keeps the general form limit.
    assert client.post("/compose", content=b"x" * 4096).status_code != 413


def test_a_body_that_stalls_gets_408(settings: Settings) -> None:
    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            body = await Request(scope, receive).body()
        except Exception as exc:
            status = getattr(exc, "status_code", 500)
            await PlainTextResponse(str(getattr(exc, "detail", exc)), status)(scope, receive, send)
            return
        await PlainTextResponse(f"read {len(body)}")(scope, receive, send)

    runtime = Runtime.build(settings.model_copy(update={"shield_body_timeout_seconds": 0.2}))
    shield = Shield(echo, ShieldState.build(runtime))

    async def stalled_receive() -> Message:
        await asyncio.sleep(5)
        return {"type": "http.request", "body": b""}

    sent: list[Message] = []

    async def collect(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/compose",
        "headers": [],
        "client": ("192.0.2.9", 1234),
        "query_string": b"",
    }
    asyncio.run(shield(scope, stalled_receive, collect))
    assert sent[0]["status"] == 408
    assert b"did not arrive within 0.2 seconds" in sent[1]["body"]
    runtime.db.dispose()
    ok = TestClient(shield)
    assert ok.post("/compose", content=b"abc").text == "read 3"


def _login_scope(address: str) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": "/login",
        "headers": [],
        "client": (address, 1234),
        "query_string": b"",
    }


async def _statuses(shield: Shield, count: int) -> list[int]:
    """`count` log-ins from different addresses at the same moment: their response statuses."""

    async def one(n: int) -> int:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def collect(message: Message) -> None:
            sent.append(message)

        await shield(_login_scope(f"192.0.2.{n + 10}"), receive, collect)
        return int(sent[0]["status"])

    return list(await asyncio.gather(*(one(n) for n in range(count))))


def test_log_ins_wait_briefly_for_the_password_slot_and_a_crowd_gets_503(
    settings: Settings,
) -> None:
    async def hashing(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(0.03)  # argon2's share of a log-in
            await PlainTextResponse("signed in")(scope, receive, send)

    runtime = Runtime.build(
        settings.model_copy(
            update={"shield_password_work_concurrency": 1, "shield_queue_wait_ms": 1000}
        )
    )
    shield = Shield(hashing, ShieldState.build(runtime))
    # Two members at the same moment: the second waits for the first, nobody is refused.
    assert asyncio.run(_statuses(shield, 2)) == [200, 200]
    # A crowd: one hashes and four wait their turn (4 x 30 ms, well within the wait); the
    # rest get 503 at once instead of queueing.
    crowd = asyncio.run(_statuses(shield, 12))
    assert crowd.count(200) == 5
    assert crowd.count(503) == 7
    assert shield.state.password_work == 0
    assert shield.state.password_waiting == 0
    runtime.db.dispose()
