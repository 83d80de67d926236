"""Streaming: the /api/v1/streaming WebSocket and the server-sent-event endpoints, fed from the
post write path, obeying blocks and visibility per subscriber."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from parvis.app import create_app
from parvis.config import Settings
from parvis.moderation.models import Action
from tests.api.conftest import DecideOn, Headers, TokenFor, my_id, post_status
from tests.servers import serve


@pytest.fixture
def port() -> int:
    """A free port on 127.0.0.1 for the live server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        number: int = probe.getsockname()[1]
        return number


@pytest.fixture
def app(settings: Settings, port: int) -> Iterator[FastAPI]:
    """The app with its public address set to the live server's, as the instance API then
    names the right streaming address (clients such as Mastodon.py follow it)."""
    application = create_app(
        settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"}),
        migrate_on_start=False,
    )
    yield application
    application.state.runtime.db.dispose()


@pytest.fixture
def live_api(app: FastAPI, port: int) -> Iterator[str]:
    """The app served on the chosen port."""
    yield from serve(app, port)


def ws_url(live_api: str, query: str) -> str:
    """The streaming WebSocket address of the live server."""
    return live_api.replace("http://", "ws://") + "/api/v1/streaming?" + query


def bearer(headers: Headers) -> str:
    """The raw token in Authorization headers."""
    return headers["Authorization"].removeprefix("Bearer ")


def next_event(socket: ClientConnection, event: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next message of the given event type (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message: dict[str, Any] = json.loads(socket.recv(timeout=deadline - time.monotonic()))
        if message.get("event") == event:
            return message


def nothing_within(socket: ClientConnection, seconds: float = 0.5) -> bool:
    """True when no message arrives for a while."""
    try:
        socket.recv(timeout=seconds)
    except TimeoutError:
        return True
    return False


def test_user_stream_gets_updates_deletes_and_notifications(
    live_api: str, client: TestClient, token_for: TokenFor
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    client.post(f"/api/v1/accounts/{my_id(client, bob)}/follow", headers=ana)
    with connect(ws_url(live_api, f"access_token={bearer(ana)}&stream=user")) as socket:
        status = post_status(client, bob, "hello stream")
        update = next_event(socket, "update")
        assert update["stream"] == ["user"]
        assert isinstance(update["payload"], str)
        assert json.loads(update["payload"])["id"] == status["id"]
        client.put(f"/api/v1/statuses/{status['id']}", data={"status": "edited"}, headers=bob)
        edited = next_event(socket, "status.update")
        assert "edited" in json.loads(edited["payload"])["content"]
        client.delete(f"/api/v1/statuses/{status['id']}", headers=bob)
        assert next_event(socket, "delete")["payload"] == status["id"]
        mine = post_status(client, ana, "mine")
        client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=bob)
        notification = json.loads(next_event(socket, "notification")["payload"])
        assert notification["type"] == "favourite"
        assert notification["account"]["username"] == "bob"


def test_public_and_hashtag_streams_obey_blocks(
    live_api: str, client: TestClient, token_for: TokenFor
) -> None:
    ana, carl = token_for("ana"), token_for("carl")
    client.post(f"/api/v1/accounts/{my_id(client, carl)}/block", headers=ana)
    with (
        connect(ws_url(live_api, f"access_token={bearer(ana)}")) as ana_socket,
        connect(ws_url(live_api, "stream=public")) as public_socket,
    ):
        ana_socket.send(json.dumps({"type": "subscribe", "stream": "public"}))
        ana_socket.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "news"}))
        time.sleep(0.2)  # the subscribe messages are read before the post is written
        status = post_status(client, carl, "blocked #news")
        public = next_event(public_socket, "update")
        assert public["stream"] == ["public"]
        assert json.loads(public["payload"])["id"] == status["id"]
        assert nothing_within(ana_socket)
        other = post_status(client, token_for("dan"), "visible #news")
        seen = {tuple(next_event(ana_socket, "update")["stream"]) for _ in range(2)}
        assert seen == {("public",), ("hashtag", "news")}
        assert json.loads(next_event(public_socket, "update")["payload"])["id"] == other["id"]


def test_moderation_decisions_update_and_delete_streamed_statuses(
    live_api: str, client: TestClient, token_for: TokenFor, decide_on: DecideOn
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    client.post(f"/api/v1/accounts/{my_id(client, bob)}/follow", headers=ana)
    with (
        connect(ws_url(live_api, f"access_token={bearer(ana)}&stream=user")) as user_socket,
        connect(ws_url(live_api, "stream=public")) as public_socket,
    ):
        status = post_status(client, bob, "a heated post")
        next_event(user_socket, "update")
        next_event(public_socket, "update")
        decide_on(status["id"], Action.INTERSTITIAL)
        warned = json.loads(next_event(user_socket, "status.update")["payload"])
        assert (warned["id"], warned["sensitive"]) == (status["id"], True)
        assert "harassment" in warned["spoiler_text"]
        decide_on(status["id"], Action.REMOVE)
        assert next_event(user_socket, "delete")["payload"] == status["id"]
        assert next_event(public_socket, "delete")["payload"] == status["id"]


def test_public_streams_refuse_a_token_without_read_scope(
    live_api: str, token_for: TokenFor
) -> None:
    writer = token_for("wes", scope="write")
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(live_api, f"access_token={bearer(writer)}&stream=public"))
    assert refused.value.response.status_code == 403


def test_token_by_websocket_protocol_and_refusals(
    live_api: str, client: TestClient, token_for: TokenFor
) -> None:
    ana = token_for("ana")
    with connect(ws_url(live_api, "stream=user"), subprotocols=[bearer(ana)]) as socket:  # type: ignore[list-item]
        assert socket.subprotocol == bearer(ana)
        socket.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        error = json.loads(socket.recv(timeout=5))
        assert error["status"] == 422
        assert "Unknown stream" in error["error"]
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(live_api, "access_token=wrong&stream=public"))
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as anonymous_user:
        connect(ws_url(live_api, "stream=user"))
    assert anonymous_user.value.response.status_code == 401
    assert client.get("/api/v1/streaming/health").text == "OK"


mastodon: Any = pytest.importorskip("mastodon")


def test_mastodon_py_stream_user_and_public(
    live_api: str, client: TestClient, token_for: TokenFor
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    client.post(f"/api/v1/accounts/{my_id(client, bob)}/follow", headers=ana)
    received: dict[str, list[Any]] = {"user": [], "public": [], "notification": []}
    arrived = threading.Event()

    class Listener(mastodon.StreamListener):  # type: ignore[misc]
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def on_update(self, status: Any) -> None:
            received[self.name].append(status)
            arrived.set()

        def on_notification(self, notification: Any) -> None:
            received["notification"].append(notification)
            arrived.set()

    api = mastodon.Mastodon(access_token=bearer(ana), api_base_url=live_api)
    user_handle = api.stream_user(Listener("user"), run_async=True)
    public_handle = api.stream_public(Listener("public"), run_async=True)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and live_subscribers(client) < 2:
            time.sleep(0.05)
        status = post_status(client, bob, "for the libraries")
        mine = post_status(client, ana, "mine")
        client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=bob)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (
            len(received["user"]) >= 2 and received["public"] and received["notification"]
        ):
            time.sleep(0.05)
        assert [s["id"] for s in received["user"]] == [status["id"], mine["id"]]
        assert status["id"] in [s["id"] for s in received["public"]]
        assert received["notification"][0]["type"] == "favourite"
    finally:
        user_handle.close()
        public_handle.close()


def test_mastodon_py_websocket_streams(
    live_api: str, client: TestClient, token_for: TokenFor
) -> None:
    pytest.importorskip("websocket", reason="Mastodon.py's WebSocket transport needs it")
    ana, bob = token_for("ana"), token_for("bob")
    client.post(f"/api/v1/accounts/{my_id(client, bob)}/follow", headers=ana)
    received: dict[str, list[Any]] = {"user": [], "news": []}

    class Listener(mastodon.StreamListener):  # type: ignore[misc]
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def on_update(self, status: Any) -> None:
            received[self.name].append(status)

    api = mastodon.Mastodon(access_token=bearer(ana), api_base_url=live_api)
    assert api.stream_healthy()
    handle = api.stream_open_websocket()
    try:
        api.stream_user(Listener("user"), websocket_handle=handle)
        api.stream_hashtag("news", Listener("news"), websocket_handle=handle)
        time.sleep(0.3)  # the subscriptions reach the server before the post is written
        status = post_status(client, bob, "breaking #news")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (received["user"] and received["news"]):
            time.sleep(0.05)
        assert [s["id"] for s in received["user"]] == [status["id"]]
        assert [s["id"] for s in received["news"]] == [status["id"]]
    finally:
        handle.close()


def live_subscribers(client: TestClient) -> int:
    """Open streaming connections of the app under test."""
    count: int = client.app.state.stream_broker.subscriber_count  # type: ignore[attr-defined]
    return count
