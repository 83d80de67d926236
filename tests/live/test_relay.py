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


def _payloads(frames: list[bytes]) -> list[bytes]:
    records = []
    for frame in frames:
        body = frame[2:] if frame[1] < 126 else frame[4:]
        records += decode_records(body)
    return [r.payload for r in records if r.kind == MEDIA]


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
