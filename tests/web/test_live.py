"""Live room pages: schedule form, room page, host actions, profile fragment, notifications."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.types import Receive, Scope, Send

from parvis.accounts.models import User
from parvis.app import create_app
from parvis.config import Settings
from parvis.live import rooms
from parvis.live.models import Room
from parvis.runtime import Runtime
from parvis.social import graph
from parvis.web.live import socket_room_id
from tests.conftest import MakeUser
from tests.web.conftest import form_post, login


def test_scheduling_from_the_form_reaches_profile_and_followers(
    client: TestClient, runtime: Runtime, make_user: MakeUser
) -> None:
    host, fan = make_user("hostess"), make_user("fan")
    with runtime.db.session() as session:
        graph.follow(session, session.get_one(User, fan.id), session.get_one(User, host.id))
    login(client, "hostess")
    response = form_post(
        client,
        "/live/new",
        {"title": "Evening interview", "starts_at": "2027-05-01T18:30", "tz_offset": "-120"},
        page="/live/new",
    )
    assert response.status_code == 303
    room_path = response.headers["location"]
    with runtime.db.session() as session:
        room = session.get_one(Room, int(room_path.rsplit("/", 1)[1]))
        assert room.scheduled_for is not None
        assert room.scheduled_for.isoformat() == "2027-05-01T16:30:00+00:00"  # local UTC+2
    page = client.get(room_path)
    assert "Evening interview" in page.text
    assert "Open the room now" in page.text
    assert "blob:" in page.headers["content-security-policy"]
    assert 'hx-get="/live/hosts/hostess/rooms"' in client.get("/@hostess").text
    assert "Evening interview" in client.get("/live/hosts/hostess/rooms").text
    assert "Evening interview" in client.get("/live").text
    fan_client = TestClient(client.app)
    login(fan_client, "fan")
    assert "scheduled a live room" in fan_client.get("/notifications").text
    assert form_post(client, f"{room_path}/open", page=room_path).status_code == 303
    assert "End the room" in client.get(room_path).text
    assert "is live now" in fan_client.get("/notifications").text


def test_schedule_form_errors_and_permissions(
    client: TestClient, runtime: Runtime, make_user: MakeUser
) -> None:
    assert client.get("/live/new").status_code == 401
    host = make_user("hostess")
    make_user("other")
    login(client, "hostess")
    bad = form_post(client, "/live/new", {"title": "", "start_now": "yes"}, page="/live/new")
    assert bad.status_code == 422
    assert "Give the room a title" in bad.text
    with runtime.db.session() as session:
        room_id = rooms.schedule_room(session, session.get_one(User, host.id), title="Mine").id
    other = TestClient(client.app)
    login(other, "other")
    refused = form_post(other, f"/live/rooms/{room_id}/end", page=f"/live/rooms/{room_id}")
    assert refused.status_code == 403
    forbidden = form_post(
        other,
        f"/live/rooms/{room_id}/moderate",
        {"rule": "harassment", "facts": "x", "target": "room"},
        page=f"/live/rooms/{room_id}",
    )
    assert forbidden.status_code == 403
    assert client.get("/live/rooms/999999").status_code == 404


def test_room_socket_handshakes_skip_the_framework_but_not_the_shield(
    settings: Settings, runtime: Runtime, make_user: MakeUser
) -> None:
    app = create_app(
        settings.model_copy(update={"shield_live_per_address": "2/hour"}), migrate_on_start=False
    )
    host = make_user("hostess")
    with runtime.db.session() as session:
        room_id = rooms.schedule_room(session, session.get_one(User, host.id), title="Fast").id
    path = f"/live/rooms/{room_id}/ws"
    try:
        with TestClient(app) as client:
            framework = app.middleware_stack
            assert framework is not None
            seen: list[str] = []

            async def counting(scope: Scope, receive: Receive, send: Send) -> None:
                seen.append(scope["type"])
                await framework(scope, receive, send)

            app.middleware_stack = counting
            with client.websocket_connect(path) as ws:
                assert ws.receive_json()["type"] == "welcome"
            assert seen == []  # straight to the room socket
            # Behind the shield all the same: the second handshake is the budget's last.
            with client.websocket_connect(path) as ws:
                assert ws.receive_json()["type"] == "welcome"
            with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(path):
                pass
            assert refused.value.status_code == 429
            # Anything else, even under /live/rooms/, takes the usual way.
            assert client.get("/live/rooms/abc").status_code in (404, 422)
            assert seen == ["http"]
    finally:
        app.state.runtime.db.dispose()


def test_only_room_socket_paths_are_taken_ahead() -> None:
    assert socket_room_id("/live/rooms/12/ws") == 12
    for path in ("/live/rooms/12/ws/", "/live/rooms/x/ws", "/live/rooms/12", "/api/v1/streaming"):
        assert socket_room_id(path) is None
    assert socket_room_id("/live/rooms/" + "9" * 19 + "/ws") is None  # not a room id


def test_the_schedule_form_offers_a_recording_and_the_ended_room_says_what_became_of_it(
    client: TestClient, runtime: Runtime, make_user: MakeUser
) -> None:
    make_user("hostess")
    login(client, "hostess")
    assert "Keep a recording" in client.get("/live/new").text
    response = form_post(
        client,
        "/live/new",
        {"title": "Recorded talk", "start_now": "yes", "recording": "yes"},
        page="/live/new",
    )
    room_path = response.headers["location"]
    assert "recorded" in client.get(room_path).text
    assert form_post(client, f"{room_path}/end", page=room_path).status_code == 303
    assert "Nobody spoke on stage, so there is no recording." in client.get(room_path).text


def test_a_listener_gone_before_the_handshake_is_closed_not_served(
    client: TestClient, runtime: Runtime, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    import parvis.web.live

    class GoneTransport:
        def is_closing(self) -> bool:
            return True

    monkeypatch.setattr(parvis.web.live, "current_transport", GoneTransport)
    host = make_user("hostess")
    with runtime.db.session() as session:
        room_id = rooms.schedule_room(session, session.get_one(User, host.id), title="Gone").id
    with client.websocket_connect(f"/live/rooms/{room_id}/ws") as ws:
        closing = ws.receive()
    assert closing["type"] == "websocket.close"  # no welcome, no place in the room
