"""In-process fan-out of a room's audio and events to its listeners.

Records (one WebM init segment or one self-contained Cluster from `live.webm`) and JSON events
are logged per room and flushed to each listener once per interval (`flush_seconds`, stretched
in big rooms to stay under `max_writes` socket writes a second): one WebSocket message per
listener per flush, encoded once for a whole group of listeners. The room's listeners are
spread over groups flushed in turn (see `RoomRelay`), so the process never stops for the whole
room at once. Each listener has a bounded buffer; a listener that cannot keep up misses frames
(it skips ahead to the live edge, and its player jumps the gap) and never slows the others.
Init records are never dropped, so a skipped-ahead listener can always decode what comes next.

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
from dataclasses import dataclass
from typing import Protocol

from starlette.websockets import WebSocket

from parvis.live import metrics
from parvis.live.writer import Batch, BatchWriter, GuardedTransport, Transport

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

    def __init__(self, transport: Transport, max_buffer: int, stall_seconds: float) -> None:
        self.transport = transport
        self.max_buffer = max_buffer
        self.stall_seconds = stall_seconds
        self.closed = False
        self.dropped = 0
        self.stalled_since: float | None = None

    def offer(self, message: Message) -> None:
        """Write now, or drop if the transport's buffer is over the bound."""
        transport = self.transport
        if self.closed or transport.is_closing():
            self.closed = True
            return
        if not message.essential and transport.get_write_buffer_size() > self.max_buffer:
            self.dropped += message.records
            metrics.DROPPED.inc(message.records)
            now = time.monotonic()
            if self.stalled_since is None:
                self.stalled_since = now
            elif now - self.stalled_since > self.stall_seconds:
                log.info("disconnecting a listener stalled for %.0f s", self.stall_seconds)
                self.closed = True
                transport.abort()
            return
        self.stalled_since = None
        transport.write(message.frame)

    @property
    def guard(self) -> GuardedTransport | None:
        """The transport as shared with the writer thread, if it is."""
        transport = self.transport
        return transport if isinstance(transport, GuardedTransport) else None

    def close(self) -> None:
        """Stop writing (and give the writer thread's descriptor back)."""
        self.closed = True
        guard = self.guard
        if guard is not None:
            guard.release_fd()


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


# A room's listeners are spread over this many groups, flushed in turn (see `RoomRelay`).
GROUPS = 16


class RoomRelay:
    """One room's listeners in this process, the latest init of each speaker's stream, and
    what is waiting to be flushed.

    Listeners are spread over `GROUPS` groups (a newcomer joins the smallest). Each group is
    flushed once per `interval`, the groups in turn, evenly spaced: every listener still gets
    one message per interval with everything new for it, encoded once for its whole group, but
    the process writes to 1/16 of the room at a time instead of stopping for the whole room.
    With 10,000 listeners a flush of everyone takes tens of milliseconds of socket writes, in
    which nothing else runs (joins wait, and the listeners written last get the frames that
    much later); a group takes a few. Empty groups are skipped, so a small room costs one
    timer per interval. A group that becomes non-empty starts at the live edge.
    """

    def __init__(
        self,
        room_id: int,
        flush_seconds: float,
        max_writes: float = 100_000.0,
        writer: BatchWriter | None = None,
    ) -> None:
        self.room_id = room_id
        self.writer = writer  # sends to idle listeners off the event loop (`live.writer`)
        self.flush_seconds = flush_seconds
        self.max_writes = max_writes
        self.inits: dict[int, Record] = {}
        self.groups: list[set[Sink]] = [set() for _ in range(GROUPS)]
        self._group_of: dict[Sink, int] = {}
        # Records and events not yet sent to every group: (record, None) or (None, event).
        self._log: list[tuple[Record | None, tuple[bytes, bool] | None]] = []
        self._base = 0  # position (over the room's life) of _log[0]
        self._sent = [0] * GROUPS  # position up to which each group has been sent
        self._cursor = 0  # the group flushed next
        self._timer: asyncio.Handle | None = None
        self._due = 0.0  # event-loop time of the next group's turn

    @property
    def sinks(self) -> set[Sink]:
        """Every listener (a copy)."""
        return set(self._group_of)

    @property
    def _end(self) -> int:
        return self._base + len(self._log)

    def add(self, sink: Sink) -> None:
        """Start delivering to a listener (send it the inits first: see `init_message`); it
        joins the smallest group, and gets what that group gets from its next flush on."""
        if sink in self._group_of:
            return
        index = min(range(GROUPS), key=lambda k: len(self.groups[k]))
        if not self.groups[index]:
            self._sent[index] = self._end  # a group coming to life starts at the live edge
        self.groups[index].add(sink)
        self._group_of[sink] = index

    def discard(self, sink: Sink) -> None:
        """Stop delivering to a listener."""
        index = self._group_of.pop(sink, None)
        if index is not None:
            self.groups[index].discard(sink)
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
            self._log.append((record, None))
            metrics.FRAMES_IN.inc()
        self._arm()

    def end_stream(self, stream: int) -> None:
        """A speaker stopped: late joiners no longer need their init."""
        self.inits.pop(stream, None)

    def event(self, payload: bytes, *, essential: bool = False) -> None:
        """Queue a JSON event (already encoded) for every listener; essential events (the
        room ended) reach even listeners who are behind."""
        self._log.append((None, (payload, essential)))
        self._arm()

    @property
    def interval(self) -> float:
        """Seconds between two messages to one listener: `flush_seconds`, stretched for big
        rooms so this process makes at most `max_writes` writes a second (one per listener
        per interval)."""
        return max(self.flush_seconds, len(self._group_of) / self.max_writes)

    def _arm(self) -> None:
        """Make sure a flush is coming: the next group's turn, or at once after a pause."""
        if self._timer is not None:
            return
        loop = asyncio.get_running_loop()
        if self._due <= loop.time():
            self._due = loop.time()
            self._timer = loop.call_soon(self._tick)
        else:
            self._timer = loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        metrics.FLUSH_LATENESS.observe(max(0.0, loop.time() - self._due))
        index = self._cursor
        self.flush_group(index)
        # The next non-empty group, at its place in the cycle: turns are on a fixed grid (the
        # time spent writing does not push the next turns back), and a process that fell more
        # than a cycle behind starts afresh rather than bursting to catch up.
        step = 1
        while step < GROUPS and not self.groups[(index + step) % GROUPS]:
            step += 1
        self._cursor = (index + step) % GROUPS
        self._trim()
        interval = self.interval
        self._due += step * interval / GROUPS
        if self._due < loop.time() - interval:
            self._due = loop.time()
        if self._pending():
            self._timer = loop.call_at(self._due, self._tick)

    def _pending(self) -> bool:
        end = self._end
        return any(self._sent[k] < end for k in range(GROUPS) if self.groups[k])

    def _trim(self) -> None:
        """Forget what every non-empty group has been sent."""
        live = [self._sent[k] for k in range(GROUPS) if self.groups[k]]
        upto = min(live) if live else self._end
        if upto > self._base:
            del self._log[: upto - self._base]
            self._base = upto

    def flush(self) -> None:
        """Send everything pending to every listener now (all groups)."""
        for index in range(GROUPS):
            self.flush_group(index)
        self._trim()

    def flush_group(self, index: int) -> None:
        """Send one group what is new for it: one binary message per run of records and one
        text message per event, in order, each encoded once for the whole group."""
        start = self._sent[index]
        end = self._end
        self._sent[index] = end
        group = self.groups[index]
        if start >= end or not group:
            return
        messages: list[Message] = []
        batch: list[Record] = []
        media: list[Record] = []

        def close_batch() -> None:
            if batch:
                count = sum(1 for record in batch if record.kind == MEDIA)
                essential = count < len(batch)  # holds an init: never dropped
                messages.append(
                    Message(OPCODE_BINARY, encode_records(batch), essential, records=count)
                )
                batch.clear()

        for record, event in self._log[start - self._base :]:
            if record is not None:
                batch.append(record)
                if record.kind == MEDIA:
                    media.append(record)
            elif event is not None:
                close_batch()
                messages.append(Message(OPCODE_TEXT, event[0], essential=event[1]))
        close_batch()
        dead = []
        batched: list[GuardedTransport] = []
        writer = self.writer
        for sink in group:
            if writer is not None and isinstance(sink, TransportSink):
                guard = sink.guard
                if guard is not None and guard.idle() and not sink.closed:
                    batched.append(guard)
                    sink.stalled_since = None  # it took everything so far
                    continue
            for message in messages:
                sink.offer(message)
            if sink.closed:
                dead.append(sink)
        for sink in dead:
            self.discard(sink)
        received_at = [record.received_at for record in media]
        if batched:
            assert writer is not None
            payload = b"".join(message.frame for message in messages)
            loop = asyncio.get_running_loop()
            writer.submit(Batch(loop, batched, payload, received_at))
        if media:
            if not batched:  # else the batch observes the delay once the thread has sent
                now = time.time()
                for at in received_at:
                    metrics.FRAME_DELAY.observe(max(0.0, now - at))
            metrics.FRAMES_OUT.inc(len(group) * len(media))

    def close(self) -> None:
        """Cancel the pending flush and stop every listener."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for sink in list(self._group_of):
            with contextlib.suppress(Exception):
                sink.close()
        for group in self.groups:
            group.clear()
        self._group_of.clear()
