"""Per-account limits on chat lines and hand toggles sent over a room's WebSocket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from parvis.config import Settings
from parvis.live.quota import Quota
from parvis.runtime import Runtime
from tests.clock import clear_of_a_window_edge
from tests.conftest import MakeUser
from tests.live.conftest import MakeClient
from tests.live.test_connection import _cookie, _open_room, _until


def _events(ws: Any, kinds: set[str], count: int, limit: int = 200) -> list[dict[str, Any]]:
    """The next `count` events of the given kinds (others skipped)."""
    found: list[dict[str, Any]] = []
    for _ in range(limit):
        message = ws.receive()
        if message.get("text"):
            event = json.loads(message["text"])
            if event["type"] in kinds:
                found.append(event)
                if len(found) == count:
                    return found
    raise AssertionError(f"only {len(found)} of {count} {kinds} events")


def test_chat_lines_past_the_limit_are_refused_with_what_to_do(
    runtime: Runtime, make_user: MakeUser, live_client: MakeClient
) -> None:
    host, _fan = make_user("hostess"), make_user("fan")
    room_id = _open_room(runtime, host)
    client = live_client()
    as_fan = _cookie(client, "fan")
    path = f"/live/rooms/{room_id}/ws"
    with client.websocket_connect(path, headers=as_fan) as ws:
        _until(ws, "welcome")
        clear_of_a_window_edge(10)
        for number in range(6):
            ws.send_json({"type": "chat", "text": f"line {number}"})
        events = _events(ws, {"chat", "error"}, 6)
        assert [e["type"] for e in events].count("chat") == 5
        refusal = next(e for e in events if e["type"] == "error")
        assert refusal["code"] == "rate_limited"
        assert refusal["action"] == "chat"
        assert 1 <= refusal["retry_after_s"] <= 10
        assert "Too many chat messages" in refusal["message"]
        assert "Wait" in refusal["message"]
        # Another socket of the same account shares the budget.
        with client.websocket_connect(path, headers=as_fan) as second:
            _until(second, "welcome")
            second.send_json({"type": "chat", "text": "from my other tab"})
            assert _until(second, "error")["code"] == "rate_limited"
    # The host's own budget is untouched.
    with client.websocket_connect(path, headers=_cookie(client, "hostess")) as h:
        _until(h, "welcome")
        h.send_json({"type": "chat", "text": "welcome everyone"})
        assert "welcome everyone" in _until(h, "chat")["html"]


def test_hand_toggles_past_the_limit_are_refused(
    runtime: Runtime, make_user: MakeUser, live_client: MakeClient
) -> None:
    host, _fan = make_user("hostess"), make_user("fan")
    room_id = _open_room(runtime, host)
    client = live_client()
    with client.websocket_connect(
        f"/live/rooms/{room_id}/ws", headers=_cookie(client, "fan")
    ) as ws:
        _until(ws, "welcome")
        clear_of_a_window_edge(60)
        for number in range(7):
            ws.send_json({"type": "hand", "raised": number % 2 == 0})
        events = _events(ws, {"hand", "error"}, 7)
        assert [e["type"] for e in events].count("hand") == 6
        refusal = next(e for e in events if e["type"] == "error")
        assert refusal["action"] == "hand"
        assert "raised or lowered hands" in refusal["message"]


def test_quota_counts_per_account_and_fails_open_when_redis_is_unreachable(
    settings: Settings,
) -> None:
    async def scenario() -> tuple[list[int | None], int | None]:
        clear_of_a_window_edge(60)
        quota = Quota(settings)
        waits = [await quota.wait_needed("hand", 1) for _ in range(7)]
        broken = Quota(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
        return waits, await broken.wait_needed("chat", 1)

    waits, broken = asyncio.run(scenario())
    assert waits[:6] == [None] * 6
    assert waits[6] is not None
    assert waits[6] >= 1
    assert broken is None
