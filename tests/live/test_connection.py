"""A room over its WebSocket: waiting line, welcome, audio relay, hands, chat, removal, end."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient

from parvis.accounts.models import Role, User
from parvis.live import rooms
from parvis.live.relay import INIT, MEDIA, decode_records
from parvis.live.webm import recorder_like_stream
from parvis.moderation import publication
from parvis.runtime import Runtime
from tests.conftest import MakeUser
from tests.live.conftest import MakeClient
from tests.web.conftest import login


def _open_room(runtime: Runtime, host: User) -> int:
    with runtime.db.session() as session:
        return rooms.schedule_room(session, session.get_one(User, host.id), title="On air").id


def _until(ws: Any, kind: str, limit: int = 50) -> dict[str, Any]:
    for _ in range(limit):
        message = ws.receive()
        if message.get("text"):
            import json

            event: dict[str, Any] = json.loads(message["text"])
            if event["type"] == kind:
                return event
    raise AssertionError(f"no {kind} event")


def _cookie(client: TestClient, username: str) -> dict[str, str]:
    """Headers carrying a fresh session of `username` (sockets of one client, several members:
    every socket must reach the same app and event loop, as in one server process)."""
    other = TestClient(client.app)
    login(other, username)
    return {"cookie": f"parvis_session={other.cookies['parvis_session']}"}


def _each(ws: Any, kinds: set[str], limit: int = 50) -> dict[str, dict[str, Any]]:
    """The first event of each kind (they may arrive in any order)."""
    import json

    found: dict[str, dict[str, Any]] = {}
    for _ in range(limit):
        message = ws.receive()
        if message.get("text"):
            event = json.loads(message["text"])
            found.setdefault(event["type"], event)
            if kinds <= set(found):
                return found
    raise AssertionError(f"missing {kinds - set(found)}")


def _records(ws: Any, want: int) -> list[Any]:
    got: list[Any] = []
    while len(got) < want:
        message = ws.receive()
        if message.get("bytes"):
            got += decode_records(message["bytes"])
    return got


def test_host_speaks_listeners_hear_and_late_joiners_start_at_the_live_edge(
    runtime: Runtime, make_user: MakeUser, live_client: MakeClient
) -> None:
    host = make_user("hostess")
    room_id = _open_room(runtime, host)
    anon = live_client()
    chunks = recorder_like_stream([i.to_bytes(2, "big") * 40 for i in range(60)])
    path = f"/live/rooms/{room_id}/ws"
    with anon.websocket_connect(path, headers=_cookie(anon, "hostess")) as speaker:
        welcome = _until(speaker, "welcome")
        assert welcome["me"]["role"] == "host"
        with anon.websocket_connect(f"/live/rooms/{room_id}/ws") as early:
            assert _until(early, "welcome")["me"]["role"] == "listener"
            for chunk in chunks[:30]:
                speaker.send_bytes(chunk)
            records = _records(early, 31)
            assert records[0].kind == INIT
            assert records[0].stream == host.id
            assert [r.kind for r in records[1:]] == [MEDIA] * 30
            with anon.websocket_connect(f"/live/rooms/{room_id}/ws") as late:
                _until(late, "welcome")
                for chunk in chunks[30:]:
                    speaker.send_bytes(chunk)
                late_records = _records(late, 31)
        # The late joiner got the init first, then only what was said after it joined.
        assert late_records[0].kind == INIT
        assert [r.seq for r in late_records[1:]] == list(range(32, 62))


def test_hands_promotion_chat_and_removal(
    runtime: Runtime, make_user: MakeUser, live_client: MakeClient
) -> None:
    host, fan = make_user("hostess"), make_user("fan")
    room_id = _open_room(runtime, host)
    client = live_client()
    as_host, as_fan = _cookie(client, "hostess"), _cookie(client, "fan")
    path = f"/live/rooms/{room_id}/ws"
    with (
        client.websocket_connect(path, headers=as_host) as h,
        client.websocket_connect(path, headers=as_fan) as f,
    ):
        _until(h, "welcome")
        _until(f, "welcome")
        f.send_json({"type": "hand", "raised": True})
        assert _until(h, "hand")["hands"] == [{"user_id": fan.id, "username": "fan"}]
        f.send_json({"type": "manage", "action": "speaker", "user_id": host.id})
        assert "host" in _until(f, "error")["message"]
        h.send_json({"type": "manage", "action": "speaker", "user_id": fan.id})
        seen = _each(f, {"stage", "you"})
        assert {"user_id": fan.id, "username": "fan", "role": "speaker", "muted": False} in (
            seen["stage"]["stage"]
        )
        assert seen["you"]["role"] == "speaker"
        f.send_json({"type": "chat", "text": "thanks for having me"})
        assert "thanks for having me" in _until(h, "chat")["html"]
        h.send_json({"type": "manage", "action": "block", "user_id": fan.id})
        assert _until(f, "removed")["message"] == "The host removed you from this room."
    with client.websocket_connect(path, headers=as_fan) as again:
        assert "blocked" in _until(again, "error")["message"]


def test_a_join_storm_waits_in_line_and_is_told_its_place(
    runtime: Runtime, make_user: MakeUser, live_client: MakeClient
) -> None:
    host = make_user("hostess")
    room_id = _open_room(runtime, host)
    client = live_client(live_admissions_per_second=4, live_admission_burst=1)
    path = f"/live/rooms/{room_id}/ws"
    with client.websocket_connect(path) as first, client.websocket_connect(path) as second:
        _until(first, "welcome")
        with client.websocket_connect(path) as third:
            waiting = _until(third, "waiting")
            assert waiting["position"] >= 1
            assert waiting["expected_wait_s"] > 0
            started = time.monotonic()
            _until(second, "welcome")
            _until(third, "welcome")  # admitted, never refused
            assert time.monotonic() - started < 3


def test_a_moderator_decision_ends_the_room_for_everyone_connected(
    runtime: Runtime, make_user: MakeUser, live_client: MakeClient
) -> None:
    host, _mod = make_user("hostess"), make_user("mod", role=Role.MODERATOR)
    room_id = _open_room(runtime, host)
    with runtime.db.session() as session:
        publication.ensure_default(session)
    listener = live_client()
    moderator = TestClient(listener.app)
    login(moderator, "mod")
    with listener.websocket_connect(f"/live/rooms/{room_id}/ws") as ws:
        _until(ws, "welcome")
        page = moderator.get(f"/live/rooms/{room_id}")
        assert "End the room" in page.text
        import re

        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        response = moderator.post(
            f"/live/rooms/{room_id}/moderate",
            data={
                "rule": "harassment",
                "target": "room",
                "facts": "Harassment of a named member on air.",
                "csrf_token": token.group(1),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        statement = moderator.get(response.headers["location"])
        assert "harassment" in statement.text
        assert "The room was ended" in statement.text
        ended = _until(ws, "ended", limit=200)
        assert ended["decision_id"] is not None
    page = TestClient(listener.app).get(f"/live/rooms/{room_id}")
    assert "statement of reasons" in page.text
