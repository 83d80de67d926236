"""With `redis_url` set, stream events go through Redis pub/sub, so every worker's
subscribers hear every worker's writes."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from fastapi import FastAPI
from starlette.testclient import TestClient
from websockets.sync.client import connect

from parvis.api.stream_broker import Subscription
from parvis.app import create_app
from parvis.config import Settings
from tests.api.conftest import TokenFor, post_status
from tests.api.test_streaming import next_event, ws_url
from tests.servers import serve

REDIS_URL = "redis://127.0.0.1:6379/7"


@pytest.fixture
def redis_client() -> redis.Redis:
    """Redis for this test, or a skip when it is not running."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return client


@pytest.fixture
def port() -> int:
    """A free port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        number: int = probe.getsockname()[1]
        return number


@pytest.fixture
def app(settings: Settings, port: int, redis_client: redis.Redis) -> Iterator[FastAPI]:
    """The app with Redis fan-out."""
    application = create_app(
        settings.model_copy(
            update={
                "base_url": f"http://127.0.0.1:{port}",
                "redis_url": REDIS_URL,
                # Counters of their own: Redis keeps them between runs, and a run a minute
                # after another would find its posting budget spent.
                "shield_redis_prefix": f"parvis-test-broker-{uuid.uuid4().hex[:8]}",
            }
        ),
        migrate_on_start=False,
    )
    yield application
    application.state.runtime.db.dispose()


@pytest.fixture
def live_api(app: FastAPI, port: int) -> Iterator[str]:
    """The app served on the chosen port."""
    yield from serve(app, port)


def test_events_are_published_on_the_database_channel(
    app: FastAPI, client: TestClient, token_for: TokenFor, redis_client: redis.Redis
) -> None:
    ana = token_for("ana")
    pubsub = redis_client.pubsub()  # type: ignore[no-untyped-call]
    pubsub.subscribe(app.state.stream_broker.channel)
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"
    status = post_status(client, ana, "over redis")
    deadline = time.monotonic() + 5
    message = None
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1)
        if message and message["type"] == "message":
            break
    assert message is not None
    event = json.loads(message["data"])
    assert event["kind"] == "post.created"
    assert str(event["post_id"]) == status["id"]
    pubsub.close()


def test_subscribers_hear_events_relayed_by_redis(
    live_api: str, client: TestClient, token_for: TokenFor
) -> None:
    ana = token_for("ana")
    with connect(ws_url(live_api, "stream=public")) as public_socket:
        status = post_status(client, ana, "relayed")
        update = next_event(public_socket, "update")
        assert json.loads(update["payload"])["id"] == status["id"]


def test_closing_the_broker_stops_its_redis_listener(app: FastAPI) -> None:
    broker = app.state.stream_broker

    async def scenario() -> tuple[bool, bool]:
        subscription = broker.subscribe()
        await broker.ready()
        listener = broker._listener
        await broker.close()
        broker.unsubscribe(subscription)
        return listener is not None and listener.cancelled(), broker._listener is None

    assert asyncio.run(scenario()) == (True, True)


def test_a_listener_running_on_another_loop_is_cancelled_there(
    app: FastAPI, redis_client: redis.Redis
) -> None:
    broker = app.state.stream_broker
    server_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=server_loop.run_forever, daemon=True)
    thread.start()
    try:

        async def listen() -> None:
            broker.subscribe()
            await broker.ready()

        asyncio.run_coroutine_threadsafe(listen(), server_loop).result(timeout=5)
        listener = broker._listener
        asyncio.run(broker.close())  # the application's shutdown, on a loop of its own
    finally:
        # The server's loop stops right after: the listener must already have closed its
        # connection, or the socket stays open with the loop that owned it gone.
        server_loop.call_soon_threadsafe(server_loop.stop)
        thread.join(timeout=5)
        server_loop.close()
    assert listener.cancelled()
    subscribers = redis_client.pubsub_numsub(broker.channel)
    assert subscribers[0][1] == 0


def test_a_listener_stopped_by_its_last_subscriber_is_waited_for_at_shutdown(
    app: FastAPI, redis_client: redis.Redis
) -> None:
    """The last streaming client leaves just before the server stops: its listener, already
    cancelled, must have closed its connection before the server's loop closes."""
    broker = app.state.stream_broker
    server_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=server_loop.run_forever, daemon=True)
    thread.start()
    left = threading.Event()
    try:

        async def come() -> Subscription:
            subscription: Subscription = broker.subscribe()
            await broker.ready()
            return subscription

        subscription = asyncio.run_coroutine_threadsafe(come(), server_loop).result(5)
        listener: asyncio.Task[None] = broker._listener

        def go_on_a_busy_loop() -> None:
            broker.unsubscribe(subscription)  # cancels the listener, does not wait for it
            left.set()
            time.sleep(0.5)  # the loop stalls before the listener can close its connection

        server_loop.call_soon_threadsafe(go_on_a_busy_loop)
        assert left.wait(5)
        asyncio.run(broker.close())  # the server's shutdown, while its loop is still busy
        finished = listener.done()
    finally:
        server_loop.call_soon_threadsafe(server_loop.stop)
        thread.join(timeout=5)
        server_loop.close()
    assert finished
    assert redis_client.pubsub_numsub(broker.channel)[0][1] == 0
