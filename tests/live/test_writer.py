"""The relay's writer thread: sends off the event loop, one writer per socket at a time."""

from __future__ import annotations

import array
import asyncio
import contextlib
import errno
import gc
import json
import os
import socket
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from parvis.accounts.models import User
from parvis.app import create_app
from parvis.config import Settings
from parvis.live import rooms, writer
from parvis.live.connection import Connection
from parvis.live.relay import INIT, MEDIA, Record, RoomRelay, TransportSink, decode_records
from parvis.live.writer import Batch, BatchWriter, GuardedTransport
from parvis.runtime import Runtime
from tests.conftest import MakeUser
from tests.servers import serve

pytestmark = pytest.mark.skipif(
    writer.SEND_JOBS is None, reason="parvis.live._sendmany was not built (no C compiler)"
)


def _send_jobs() -> writer.SendJobs:
    assert writer.SEND_JOBS is not None
    return writer.SEND_JOBS


def _fds(*socks: socket.socket) -> array.array[int]:
    return array.array("i", [sock.fileno() for sock in socks])


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError as exc:
        return exc.errno == errno.EBADF
    return False


@pytest.fixture
def pairs() -> Iterator[list[tuple[socket.socket, socket.socket]]]:
    made: list[tuple[socket.socket, socket.socket]] = []
    yield made
    for ours, theirs in made:
        ours.close()
        theirs.close()


def _pair(made: list[tuple[socket.socket, socket.socket]]) -> tuple[socket.socket, socket.socket]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    made.append((ours, theirs))
    return ours, theirs


def test_send_jobs_sends_to_every_socket_and_lists_only_what_fell_short(
    pairs: list[tuple[socket.socket, socket.socket]],
) -> None:
    (a, peer_a), (b, peer_b) = _pair(pairs), _pair(pairs)
    gone, _ = _pair(pairs)
    gone_fd = os.dup(gone.fileno())
    os.close(gone_fd)  # a descriptor nobody holds any more
    send = _send_jobs()

    assert send([(_fds(a, b), b"hello"), (_fds(b), b"again")]) == [[], []]
    assert peer_a.recv(100) == b"hello"
    assert peer_b.recv(100) == b"helloagain"

    [short] = send([(array.array("i", [a.fileno(), gone_fd]), b"x")])
    assert short == [(1, -errno.EBADF)]

    b.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    big = b"y" * 200_000
    first, second = send([(_fds(b), big), (_fds(b), big)])
    assert len(first) == 1
    assert 0 < first[0][1] < len(big)
    assert second == [(0, -errno.EAGAIN)]  # then nothing
    with pytest.raises(TypeError, match="array"):
        send([(b"\x00\x00\x00\x00", b"x")])  # type: ignore[list-item]


class Reader(asyncio.Protocol):
    def __init__(self) -> None:
        self.data = bytearray()


async def _guarded(sock: socket.socket) -> GuardedTransport:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_accepted_socket(Reader, sock=sock)
    guard = writer.guard(transport)
    assert guard is not None
    return guard


async def _closed_all(*guards: GuardedTransport) -> None:
    """Close the transports (and the thread's descriptors) before the loop ends."""
    for guard in guards:
        guard.close()
        guard.release_fd()
    await asyncio.sleep(0.01)


def _messages(data: bytes) -> list[bytes]:
    """The payloads of the unmasked WebSocket frames in `data`, in order."""
    found, pos = [], 0
    while pos < len(data):
        length, pos = data[pos + 1], pos + 2
        if length == 126:
            length, pos = int.from_bytes(data[pos : pos + 2], "big"), pos + 2
        elif length == 127:
            length, pos = int.from_bytes(data[pos : pos + 8], "big"), pos + 8
        found.append(data[pos : pos + length])
        pos += length
    return found


def _read_all(sock: socket.socket, want: int, seconds: float = 5.0) -> bytes:
    sock.settimeout(0.2)
    got = bytearray()
    deadline = time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            got += sock.recv(1 << 20)
    return bytes(got)


def test_a_relay_with_the_writer_thread_delivers_every_record_in_order(
    pairs: list[tuple[socket.socket, socket.socket]],
) -> None:
    thread = BatchWriter(_send_jobs())
    listeners = [_pair(pairs) for _ in range(40)]

    async def scenario() -> list[GuardedTransport]:
        relay = RoomRelay(room_id=1, flush_seconds=0.002, writer=thread)
        guards = [await _guarded(ours) for ours, _ in listeners]
        for guard in guards:
            relay.add(TransportSink(guard, max_buffer=1 << 20, stall_seconds=60))
        relay.publish([Record(INIT, 7, 1, time.time(), b"init")])
        for seq in range(2, 52):
            relay.publish([Record(MEDIA, 7, seq, time.time(), seq.to_bytes(2, "big") * 50)])
            relay.event(json.dumps({"type": "chat", "n": seq}).encode())
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.3)
        await _closed_all(*guards)
        return guards

    try:
        guards = asyncio.run(scenario())
    finally:
        thread.stop()
    assert all(not guard.in_flight for guard in guards)
    for _, theirs in listeners:
        messages = _messages(_read_all(theirs, 1))
        records = [r for m in messages if not m.startswith(b"{") for r in decode_records(m)]
        chats = [json.loads(m)["n"] for m in messages if m.startswith(b"{")]
        assert [r.seq for r in records] == list(range(1, 52))
        assert chats == list(range(2, 52))


def _held_batch(guard: GuardedTransport, payload: bytes) -> Batch:
    """A batch holding `guard` as if the thread had it (not submitted)."""
    return Batch(asyncio.get_running_loop(), [guard], payload, received_at=[])


def test_writes_during_a_batch_wait_for_it_and_a_short_send_goes_out_first(
    pairs: list[tuple[socket.socket, socket.socket]],
) -> None:
    ours, theirs = _pair(pairs)

    async def scenario() -> None:
        guard = await _guarded(ours)
        batch = _held_batch(guard, b"ABCDEFGH")
        os.write(guard.fd, b"ABC")  # what the thread got into the socket before it was full
        guard.write(b"[ping]")  # the server's protocol writes meanwhile: it must wait
        assert guard.in_flight
        assert guard.get_write_buffer_size() == 6
        assert not guard.idle()
        batch.finish([(0, 3)], time.time())
        assert batch.done  # the socket is the loop's again
        guard.write(b"[after]")
        await asyncio.sleep(0.05)
        await _closed_all(guard)

    asyncio.run(scenario())
    assert _read_all(theirs, 24) == b"ABCDEFGH[ping][after]"


def test_closing_during_a_batch_waits_for_it_and_then_releases_the_descriptor(
    pairs: list[tuple[socket.socket, socket.socket]],
) -> None:
    ours, theirs = _pair(pairs)

    async def scenario() -> int:
        guard = await _guarded(ours)
        fd = guard.fd
        sink = TransportSink(guard, max_buffer=1 << 20, stall_seconds=60)
        batch = _held_batch(guard, b"frame")
        os.write(fd, b"frame")
        guard.write(b"[bye]")
        guard.close()
        sink.close()  # the listener left: the relay gives the descriptor back
        assert guard.is_closing()
        assert not _closed(fd)
        batch.finish([], time.time())
        await asyncio.sleep(0.05)
        assert _closed(fd)
        assert guard.fd == -1
        await _closed_all(guard)
        return fd

    asyncio.run(scenario())
    assert _read_all(theirs, 100, seconds=1) == b"frame[bye]"  # then the end of the stream


def test_a_full_socket_gets_the_rest_of_the_message_through_its_transport(
    pairs: list[tuple[socket.socket, socket.socket]],
) -> None:
    ours, theirs = _pair(pairs)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    thread = BatchWriter(_send_jobs())
    payload = bytes(range(256)) * 2000  # 512 kB: far more than the socket takes at once

    async def scenario() -> GuardedTransport:
        guard = await _guarded(ours)
        thread.submit(Batch(asyncio.get_running_loop(), [guard], payload, received_at=[]))
        guard.write(b"next")
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not guard.in_flight:
                break
        reader = asyncio.get_running_loop().run_in_executor(
            None, _read_all, theirs, len(payload) + 4
        )
        got = await reader
        assert got == payload + b"next"
        await _closed_all(guard)
        return guard

    try:
        asyncio.run(scenario())
    finally:
        thread.stop()


def _room(runtime: Runtime, make_user: MakeUser, host: str) -> int:
    with runtime.db.session() as session:
        return rooms.schedule_room(
            session, session.get_one(User, make_user(host).id), title="Live"
        ).id


@contextlib.contextmanager
def _listening(app: FastAPI, room_id: int) -> Iterator[tuple[ClientConnection, Connection]]:
    """A listener welcomed into the room through uvicorn, and the server's connection for it."""
    for url in serve(app):
        ws_url = url.replace("http", "ws", 1) + f"/live/rooms/{room_id}/ws"
        with connect(ws_url, origin=Origin(url)) as listener:
            while json.loads(listener.recv(timeout=10))["type"] != "welcome":
                pass
            hub = app.state.live_hub
            deadline = time.monotonic() + 5
            while not hub.connections.get(room_id) and time.monotonic() < deadline:
                time.sleep(0.01)  # the server counts it present just after the welcome
            [connection] = hub.connections[room_id]
            yield listener, connection
        return


def test_under_uvicorn_the_servers_own_writes_share_the_guard(
    app: FastAPI, runtime: Runtime, make_user: MakeUser
) -> None:
    room_id = _room(runtime, make_user, "onair")
    with _listening(app, room_id) as (listener, connection):
        guard = connection.transport
        assert isinstance(guard, GuardedTransport)
        assert guard.fd >= 0
        assert isinstance(connection.sink, TransportSink)
        assert connection.sink.transport is guard
        # uvicorn's protocol writes (pongs, pings, close frames) through the same guard.
        protocols = [
            owner
            for owner in gc.get_referrers(guard)
            if isinstance(owner, dict) and "scheme" in owner and "app_state" in owner
        ]
        assert [owner["transport"] for owner in protocols] == [guard]
        assert listener.ping().wait(timeout=5)
        listener.close()  # the listener leaves while the server keeps running
        deadline = time.monotonic() + 5
        while guard.fd != -1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert guard.fd == -1  # the thread's descriptor is closed with it


class GoneTransport:
    """A transport whose handle is closed but says otherwise (uvloop raises on writes)."""

    def write(self, data: bytes) -> None:
        raise RuntimeError("the handler is closed")

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        pass


def test_a_connection_that_fails_after_a_batch_does_not_hold_the_others(
    pairs: list[tuple[socket.socket, socket.socket]], caplog: pytest.LogCaptureFixture
) -> None:
    ours, theirs = _pair(pairs)

    async def scenario() -> None:
        gone = GuardedTransport(GoneTransport(), os.dup(ours.fileno()))
        alive = await _guarded(ours)
        batch = Batch(asyncio.get_running_loop(), [gone, alive], b"", received_at=[])
        gone.write(b"lost")
        gone.release_fd()
        alive.write(b"kept")
        alive.release_fd()
        fds = gone.fd, alive.fd
        batch.finish([], time.time())
        # Both descriptors given back despite the failure.
        assert [_closed(fd) for fd in fds] == [True, True]
        assert (gone.fd, alive.fd) == (-1, -1)
        await asyncio.sleep(0.05)
        await _closed_all(alive)

    asyncio.run(scenario())
    assert _read_all(theirs, 4, seconds=1) == b"kept"
    assert "writing what waited for a batch failed" in caplog.text


def test_with_the_writer_thread_turned_off_the_loop_writes_as_before(
    settings: Settings, runtime: Runtime, make_user: MakeUser
) -> None:
    room_id = _room(runtime, make_user, "offair")
    app = create_app(
        settings.model_copy(update={"live_writer_thread": False}), migrate_on_start=False
    )
    try:
        with _listening(app, room_id) as (listener, connection):
            assert app.state.live_hub.relays[room_id].writer is None
            assert not isinstance(connection.transport, GuardedTransport)
            assert isinstance(connection.sink, TransportSink)
            assert connection.sink.guard is None
            assert listener.ping().wait(timeout=5)
    finally:
        app.state.runtime.db.dispose()
