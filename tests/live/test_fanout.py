"""Fan-out across two server processes through Redis pub/sub (the local Redis on 6379)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from websockets.sync.client import ClientConnection, connect

from parvis.accounts import services as accounts
from parvis.accounts.models import User
from parvis.config import Settings
from parvis.live import rooms
from parvis.live.fanout import AUDIO, EVENT, RedisBus
from parvis.live.relay import INIT, MEDIA, decode_records
from parvis.live.webm import recorder_like_stream
from parvis.runtime import Runtime
from tests.conftest import MakeUser

REDIS = ("127.0.0.1", 6379)


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def two_servers(settings: Settings, tmp_path: Path) -> Iterator[list[str]]:
    """Two uvicorn processes on one database, sharing Redis under a prefix of their own."""
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"parvis-test-{uuid.uuid4().hex[:8]}:"
    env = {
        **os.environ,
        "PARVIS_DATA_DIR": str(settings.data_dir),
        "PARVIS_DATABASE_URL": settings.resolved_database_url,
        "PARVIS_SECRET_KEY": settings.secret_key.get_secret_value(),
        "PARVIS_REDIS_URL": "redis://127.0.0.1:6379/0",
        "PARVIS_LIVE_REDIS_PREFIX": prefix,
        "PARVIS_LINK_CHECK_ENABLED": "false",
        "PARVIS_SQLITE_SYNCHRONOUS": "OFF",
    }
    processes, urls = [], []
    try:
        for _ in range(2):
            port = _free_port()
            command = [sys.executable, "-m", "uvicorn", "parvis.app:create_app", "--factory"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            processes.append(subprocess.Popen(command, env=env))
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                pytest.fail("server did not start")
            urls.append(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def _events_until(ws: ClientConnection, kind: str) -> tuple[dict[str, Any], list[Any]]:
    records: list[Any] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = ws.recv(timeout=10)
        if isinstance(message, bytes):
            records += decode_records(message)
            continue
        event = json.loads(message)
        if event["type"] == kind:
            return event, records
    raise AssertionError(f"no {kind} event")


def _records(ws: ClientConnection, want: int) -> list[Any]:
    records: list[Any] = []
    while len(records) < want:
        message = ws.recv(timeout=10)
        if isinstance(message, bytes):
            records += decode_records(message)
    return records


def test_audio_and_chat_cross_between_two_processes(
    two_servers: list[str], runtime: Runtime, make_user: MakeUser
) -> None:
    host = make_user("hostess")
    with runtime.db.session() as session:
        me = session.get_one(User, host.id)
        room_id = rooms.schedule_room(session, me, title="Across workers").id
        cookie, _ = accounts.start_web_session(session, runtime.settings, me)
    first, second = (url.replace("http", "ws") + f"/live/rooms/{room_id}/ws" for url in two_servers)
    chunks = recorder_like_stream([i.to_bytes(2, "big") * 40 for i in range(40)])
    headers = {"Cookie": f"parvis_session={cookie}"}
    with connect(first, additional_headers=headers) as speaker, connect(second) as listener:
        _events_until(speaker, "welcome")
        _events_until(listener, "welcome")
        for chunk in chunks[:20]:
            speaker.send(chunk)
        heard = _records(listener, 21)
        assert heard[0].kind == INIT
        assert heard[0].stream == host.id
        assert [r.kind for r in heard[1:21]] == [MEDIA] * 20
        speaker.send(json.dumps({"type": "chat", "text": "hello from process one"}))
        event, _ = _events_until(listener, "chat")
        assert "hello from process one" in event["html"]
        # A late joiner on the other process starts from the stored init and the live edge.
        with connect(second) as late:
            _events_until(late, "welcome")
            for chunk in chunks[20:]:
                speaker.send(chunk)
            late_heard = _records(late, 21)
        assert late_heard[0].kind == INIT
        assert [r.seq for r in late_heard[1:]] == list(range(22, 42))


def test_chat_limits_count_per_account_across_processes(
    two_servers: list[str], runtime: Runtime, make_user: MakeUser
) -> None:
    host = make_user("hostess")
    with runtime.db.session() as session:
        me = session.get_one(User, host.id)
        room_id = rooms.schedule_room(session, me, title="Counted everywhere").id
        cookie, _ = accounts.start_web_session(session, runtime.settings, me)
    first, second = (url.replace("http", "ws") + f"/live/rooms/{room_id}/ws" for url in two_servers)
    headers = {"Cookie": f"parvis_session={cookie}"}
    with (
        connect(first, additional_headers=headers) as a,
        connect(second, additional_headers=headers) as b,
    ):
        _events_until(a, "welcome")
        _events_until(b, "welcome")
        for number in range(5):
            a.send(json.dumps({"type": "chat", "text": f"line {number} via the first"}))
            _events_until(a, "chat")
        b.send(json.dumps({"type": "chat", "text": "one more via the second"}))
        refusal, _ = _events_until(b, "error")
        assert refusal["code"] == "rate_limited"


def test_the_bus_publishes_at_once_and_again_after_its_connection_is_cut() -> None:
    """Frames leave in the call that sends them, not through a task; a message sent while the
    publishing connection is down waits in the queue; a cut connection is reopened."""
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    url = "redis://127.0.0.1:6379/0"
    prefix = f"parvis-test-{uuid.uuid4().hex[:8]}:"

    async def until(condition: Callable[[], bool]) -> None:
        for _ in range(500):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("timed out")

    async def scenario() -> list[bytes]:
        heard: list[bytes] = []
        listener = RedisBus(url, prefix, b"L" * 16, lambda room, kind, body: heard.append(body))
        speaker = RedisBus(url, prefix, b"S" * 16, lambda room, kind, body: None)
        admin = aioredis.from_url(url)
        try:
            await listener.start()
            await listener.subscribe(7)
            speaker.publish(7, EVENT, b"queued before the bus started")
            await speaker.start()
            await until(lambda: len(heard) == 1)
            await until(lambda: speaker._publisher is not None)
            first = speaker._publisher
            speaker.publish(7, AUDIO, b"at once")
            assert speaker._outbox.empty()  # written to Redis in the call itself
            await until(lambda: len(heard) == 2)
            publishers = [c for c in await admin.client_list() if c.get("cmd") == "publish"]
            for client in publishers:
                await admin.client_kill_filter(_id=client["id"])
            await until(lambda: speaker._publisher not in (None, first))
            speaker.publish(7, AUDIO, b"after the cut")
            await until(lambda: len(heard) == 3)
        finally:
            await speaker.close()
            await listener.close()
            await admin.aclose()
        return heard

    assert asyncio.run(scenario()) == [
        b"queued before the bus started",
        b"at once",
        b"after the cut",
    ]
