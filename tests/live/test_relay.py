"""The relay: batches to every listener, slow listeners skip ahead without slowing others."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from parvis.live.relay import (
    INIT,
    MEDIA,
    Message,
    Record,
    RoomRelay,
    TransportSink,
    decode_records,
)


class FakeTransport(asyncio.WriteTransport):
    """Records writes; `stuck` pretends the peer stopped reading."""

    def __init__(self, stuck: bool = False) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.stuck = stuck
        self.backlog = 0

    def write(self, data: Any) -> None:
        if self.stuck:
            self.backlog += len(data)
        else:
            self.written.append(bytes(data))

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def is_closing(self) -> bool:
        return False

    def abort(self) -> None:
        self.stuck = False


def _records(frames: list[bytes]) -> list[list[Record]]:
    """The records of each binary frame (text frames give an empty list)."""
    found = []
    for frame in frames:
        body = frame[2:] if frame[1] < 126 else frame[4:]
        found.append(decode_records(body) if frame[0] & 0x0F == 2 else [])
    return found


def _payloads(frames: list[bytes]) -> list[bytes]:
    return [r.payload for batch in _records(frames) for r in batch if r.kind == MEDIA]


def test_a_stuck_listener_is_skipped_and_the_others_get_everything() -> None:
    async def scenario() -> tuple[FakeTransport, FakeTransport, TransportSink]:
        relay = RoomRelay(room_id=1, flush_seconds=0.005)
        fast, slow = FakeTransport(), FakeTransport(stuck=True)
        slow_sink = TransportSink(slow, max_buffer=1000, stall_seconds=60)
        relay.add(TransportSink(fast, max_buffer=1000, stall_seconds=60))
        relay.add(slow_sink)
        relay.publish([Record(INIT, 7, 0, time.time(), b"header")])
        for seq in range(1, 201):
            relay.publish([Record(MEDIA, 7, seq, time.time(), seq.to_bytes(4, "big") * 25)])
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.02)
        return fast, slow, slow_sink

    fast, slow, slow_sink = asyncio.run(scenario())
    assert _payloads(fast.written) == [i.to_bytes(4, "big") * 25 for i in range(1, 201)]
    assert slow_sink.dropped > 150  # skipped, never waited for
    assert slow.backlog < 1000 + 2000  # bounded: the init (essential) and one batch at most


def test_a_late_joiner_gets_the_init_and_then_the_live_edge() -> None:
    async def scenario() -> tuple[bytes | None, FakeTransport]:
        relay = RoomRelay(room_id=1, flush_seconds=0.001)
        relay.publish([Record(INIT, 7, 0, time.time(), b"header")])
        relay.publish([Record(MEDIA, 7, 1, time.time(), b"old")])
        await asyncio.sleep(0.01)
        late = FakeTransport()
        init = relay.init_message()
        relay.add(TransportSink(late, max_buffer=1000, stall_seconds=60))
        relay.publish([Record(MEDIA, 7, 2, time.time(), b"new")])
        await asyncio.sleep(0.01)
        return init, late

    init, late = asyncio.run(scenario())
    assert init is not None
    assert [r.payload for r in decode_records(init)] == [b"header"]
    assert _payloads(late.written) == [b"new"]


def test_frames_are_encoded_once_for_everyone() -> None:
    message = Message(opcode=2, payload=b"x" * 300)
    assert message.frame is message.frame
    assert message.frame[:4] == bytes([0x82, 126, 1, 44])


def test_a_big_room_is_flushed_a_group_at_a_time_and_everyone_gets_everything_in_order() -> None:
    async def scenario() -> tuple[list[FakeTransport], list[int], list[int]]:
        relay = RoomRelay(room_id=1, flush_seconds=0.032)
        listeners = [FakeTransport() for _ in range(160)]
        for transport in listeners:
            relay.add(TransportSink(transport, max_buffer=1 << 20, stall_seconds=60))
        sizes = [len(group) for group in relay.groups]
        # Count how many listeners each flush writes to: never the whole room at once.
        written_per_flush: list[int] = []
        original = relay.flush_group

        def counting(index: int) -> None:
            before = sum(len(t.written) for t in listeners)
            original(index)
            written_per_flush.append(sum(len(t.written) for t in listeners) - before)

        relay.flush_group = counting  # type: ignore[method-assign]
        relay.publish([Record(INIT, 7, 0, time.time(), b"header")])
        for seq in range(1, 41):
            relay.publish([Record(MEDIA, 7, seq, time.time(), seq.to_bytes(4, "big"))])
            if seq == 20:
                relay.event(b'{"type":"chat"}')
            await asyncio.sleep(0.004)
        await asyncio.sleep(0.08)
        return listeners, sizes, written_per_flush

    listeners, sizes, written = asyncio.run(scenario())
    assert sizes == [10] * 16  # spread evenly
    assert max(written) <= 10 * 3  # one group per turn (a few messages each), not 160
    expected = [i.to_bytes(4, "big") for i in range(1, 41)]
    for transport in listeners:
        assert _payloads(transport.written) == expected
        # The chat event sits between the records published before and after it.
        batches = _records(transport.written)
        texts = [i for i, frame in enumerate(transport.written) if frame[0] & 0x0F == 1]
        assert len(texts) == 1
        before = [r.seq for batch in batches[: texts[0]] for r in batch if r.kind == MEDIA]
        after = [r.seq for batch in batches[texts[0] :] for r in batch if r.kind == MEDIA]
        assert max(before) == 20
        assert min(after) == 21


def test_each_listener_is_written_about_once_per_interval() -> None:
    async def scenario() -> tuple[list[FakeTransport], int]:
        relay = RoomRelay(room_id=1, flush_seconds=0.05)
        listeners = [FakeTransport() for _ in range(32)]
        for transport in listeners:
            relay.add(TransportSink(transport, max_buffer=1 << 20, stall_seconds=60))
        started = time.monotonic()
        seq = 0
        while time.monotonic() - started < 0.5:  # 50 frames a second for half a second
            seq += 1
            relay.publish([Record(MEDIA, 7, seq, time.time(), b"x")])
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.06)
        return listeners, seq

    listeners, frames = asyncio.run(scenario())
    for transport in listeners:
        # About 10 messages of a few frames each in 0.5 s, rather than one per frame.
        assert 5 <= len(transport.written) <= frames * 0.6
        assert _payloads(transport.written) == [b"x"] * frames


def test_the_interval_stretches_to_stay_under_the_write_budget() -> None:
    relay = RoomRelay(room_id=1, flush_seconds=0.04, max_writes=1000)
    assert relay.interval == 0.04
    for _ in range(100):
        relay.add(TransportSink(FakeTransport(), max_buffer=1000, stall_seconds=60))
    assert relay.interval == 0.1  # 100 listeners at most 1,000 writes a second
