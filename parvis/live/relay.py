"""In-process fan-out of a room's audio and events to its listeners.

Records (one WebM init segment or one self-contained Cluster from `live.webm`, or a JSON event)
are batched per room and flushed at most every `flush_seconds`: one WebSocket message per
listener per flush, encoded once for everyone. Each listener has a bounded buffer; a listener
that cannot keep up misses frames (it skips ahead to the live edge, and its player jumps the
gap) and never slows the others. Init records are never dropped, so a skipped-ahead listener
can always decode what comes next.

Wire format of a binary message (server → listener): records back to back, each
`kind u8 | stream u32 | seq u32 | received_at f64 (unix seconds) | length u32 | payload`,
big-endian; kind 1 is an init segment, 2 a media cluster. Text messages are JSON events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from starlette.websockets import WebSocket

from parvis.live import metrics

log = logging.getLogger("parvis.live")

INIT = 1
MEDIA = 2
RECORD_HEADER = struct.Struct(">BIIdI")
OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2


@dataclass(frozen=True)
class Record:
    """One unit of a speaker's stream, as relayed."""

    kind: int
    stream: int
    seq: int
    received_at: float
    payload: bytes

    def encode(self) -> bytes:
        """The record on the wire."""
        head = RECORD_HEADER.pack(
            self.kind, self.stream, self.seq, self.received_at, len(self.payload)
        )
        return head + self.payload


def encode_records(records: Iterable[Record]) -> bytes:
    """Records back to back (one binary message)."""
    return b"".join(record.encode() for record in records)


def decode_records(data: bytes) -> list[Record]:
    """The records of one binary message (used by tests, the bench and the Redis bridge)."""
    records = []
    pos = 0
    while pos < len(data):
        kind, stream, seq, received_at, length = RECORD_HEADER.unpack_from(data, pos)
        pos += RECORD_HEADER.size
        records.append(Record(kind, stream, seq, received_at, data[pos : pos + length]))
        pos += length
    return records


def websocket_frame(opcode: int, payload: bytes) -> bytes:
    """A complete, unmasked server-to-client WebSocket frame (RFC 6455 section 5.2)."""
    length = len(payload)
    if length < 126:
        head = struct.pack(">BB", 0x80 | opcode, length)
    elif length < 1 << 16:
        head = struct.pack(">BBH", 0x80 | opcode, 126, length)
    else:
        head = struct.pack(">BBQ", 0x80 | opcode, 127, length)
    return head + payload


@dataclass
class Message:
    """One message for every listener: its payload and, lazily, its encoded frame."""

    opcode: int
    payload: bytes
    essential: bool = False  # never dropped (init segments, "room ended")
    records: int = 0  # media records inside (for the dropped-frames count)
    _frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        """The WebSocket frame, encoded once and shared by every listener."""
        if self._frame is None:
            self._frame = websocket_frame(self.opcode, self.payload)
        return self._frame


class Sink(Protocol):
    """Where one listener's messages go. `offer` never blocks and never raises."""

    closed: bool
    dropped: int

    def offer(self, message: Message) -> None:
        """Queue or write the message, or drop it if this listener is too far behind."""

    def close(self) -> None:
        """Stop delivering (the connection is going away)."""


class TransportSink:
    """Writes pre-encoded frames straight to the connection's asyncio transport.

    Used under uvicorn, whose WebSocket transport `live.transport` exposes: a write costs a few
    microseconds instead of the tens an ASGI `send` costs (a task switch, the middleware chain
    and per-connection framing), which is what lets one process feed 10,000 listeners 25 times
    a second. The bound on buffering is the kernel send buffer (shrunk at join) plus
    `max_buffer` bytes in the transport; past it, frames are dropped for this listener only.
    A listener stalled for `stall_seconds` is disconnected (its player can reconnect)."""

    def __init__(
        self, transport: asyncio.WriteTransport, max_buffer: int, stall_seconds: float
    ) -> None:
        self.transport = transport
        self.max_buffer = max_buffer
        self.stall_seconds = stall_seconds
        self.closed = False
        self.dropped = 0
        self._stalled_since: float | None = None

    def offer(self, message: Message) -> None:
        """Write now, or drop if the transport's buffer is over the bound."""
        if self.closed or self.transport.is_closing():
            self.closed = True
            return
        if not message.essential and self.transport.get_write_buffer_size() > self.max_buffer:
            self.dropped += message.records
            metrics.DROPPED.inc(message.records)
            now = time.monotonic()
            if self._stalled_since is None:
                self._stalled_since = now
            elif now - self._stalled_since > self.stall_seconds:
                log.info("disconnecting a listener stalled for %.0f s", self.stall_seconds)
                self.closed = True
                self.transport.abort()
            return
        self._stalled_since = None
        self.transport.write(message.frame)

    def close(self) -> None:
        """Stop writing."""
        self.closed = True


class AsgiSink:
    """A bounded queue drained by one task through the ASGI `send` (any ASGI server).

    When the queue is full the oldest non-essential message is dropped: the listener skips
    ahead to the live edge."""

    def __init__(self, websocket: WebSocket, max_messages: int) -> None:
        self.websocket = websocket
        self.queue: deque[Message] = deque()
        self.max_messages = max_messages
        self.closed = False
        self.dropped = 0
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._drain())

    def offer(self, message: Message) -> None:
        """Queue the message, dropping the oldest droppable one when full."""
        if self.closed:
            return
        if len(self.queue) >= self.max_messages:
            for index, queued in enumerate(self.queue):
                if not queued.essential:
                    del self.queue[index]
                    self.dropped += queued.records
                    metrics.DROPPED.inc(queued.records)
                    break
        self.queue.append(message)
        self._ready.set()

    async def _drain(self) -> None:
        try:
            while not self.closed:
                await self._ready.wait()
                self._ready.clear()
                while self.queue and not self.closed:
                    message = self.queue.popleft()
                    if message.opcode == OPCODE_BINARY:
                        await self.websocket.send_bytes(message.payload)
                    else:
                        await self.websocket.send_text(message.payload.decode())
        except Exception:
            self.closed = True

    def close(self) -> None:
        """Stop the drain task."""
        self.closed = True
        self._task.cancel()


@dataclass
class RoomRelay:
    """One room's listeners in this process, the latest init of each speaker's stream, and
    the batch waiting to be flushed."""

    room_id: int
    flush_seconds: float
    max_writes: float = 100_000.0
    sinks: set[Sink] = field(default_factory=set)
    inits: dict[int, Record] = field(default_factory=dict)
    _pending: list[Record] = field(default_factory=list)
    _pending_events: list[tuple[bytes, bool]] = field(default_factory=list)
    _last_flush: float = 0.0
    _scheduled: asyncio.TimerHandle | None = None

    def add(self, sink: Sink) -> None:
        """Start delivering to a listener (send it the inits first: see `init_message`)."""
        self.sinks.add(sink)

    def discard(self, sink: Sink) -> None:
        """Stop delivering to a listener."""
        self.sinks.discard(sink)
        sink.close()

    def init_message(self) -> bytes | None:
        """Every current stream's init segment, for a joining listener."""
        if not self.inits:
            return None
        return encode_records(self.inits.values())

    def publish(self, records: Iterable[Record]) -> None:
        """Queue records for every listener; init records also replace the stream's init."""
        for record in records:
            if record.kind == INIT:
                self.inits[record.stream] = record
            self._pending.append(record)
            metrics.FRAMES_IN.inc()
        self._schedule()

    def end_stream(self, stream: int) -> None:
        """A speaker stopped: late joiners no longer need their init."""
        self.inits.pop(stream, None)

    def event(self, payload: bytes, *, essential: bool = False) -> None:
        """Queue a JSON event (already encoded) for every listener; essential events (the
        room ended) reach even listeners who are behind."""
        self._pending_events.append((payload, essential))
        self._schedule()

    @property
    def interval(self) -> float:
        """Seconds between flushes: `flush_seconds`, stretched for big rooms so this process
        makes at most `max_writes` writes a second (each listener gets one per flush)."""
        return max(self.flush_seconds, len(self.sinks) / self.max_writes)

    def _schedule(self) -> None:
        if self._scheduled is not None:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_flush + self.interval - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self._scheduled = loop.call_later(wait, self.flush)

    def flush(self) -> None:
        """Send the pending batch to every listener (one message each for audio and events)."""
        self._scheduled = None
        self._last_flush = time.monotonic()
        messages = []
        if self._pending:
            records = self._pending
            self._pending = []
            media = sum(1 for record in records if record.kind == MEDIA)
            essential = any(record.kind == INIT for record in records)
            messages.append(
                Message(OPCODE_BINARY, encode_records(records), essential, records=media)
            )
        else:
            records = []
        for payload, must in self._pending_events:
            messages.append(Message(OPCODE_TEXT, payload, essential=must))
        self._pending_events = []
        dead = []
        for sink in self.sinks:
            for message in messages:
                sink.offer(message)
            if sink.closed:
                dead.append(sink)
        for sink in dead:
            self.discard(sink)
        if records:
            now = time.time()
            delivered = len(self.sinks)
            for record in records:
                if record.kind == MEDIA:
                    metrics.FRAME_DELAY.observe(max(0.0, now - record.received_at))
            metrics.FRAMES_OUT.inc(delivered * sum(1 for r in records if r.kind == MEDIA))

    def close(self) -> None:
        """Cancel the pending flush and stop every listener."""
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        for sink in list(self.sinks):
            with contextlib.suppress(Exception):
                sink.close()
        self.sinks.clear()
