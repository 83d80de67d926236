"""The relay's writer thread: a group's audio sent to its listeners off the event loop.

A listener costs the server one socket send per flush, and at 10,000 listeners those sends
(mostly kernel time) take half of the event loop's core, the half a join storm needs for
handshakes. Here the loop only decides who gets what: a group's message goes to a thread,
which sends it to every listener whose socket was idle with one call into
`parvis.live._sendmany` (the GIL released for the whole batch, so the sends run on the other
core while the loop admits listeners). A Python thread calling `os.write` per socket would
wait for the GIL before each send and fall seconds behind.

Two things make a socket shared between the thread and the event loop safe:

- **Its own descriptor.** The thread sends on a `dup` of the connection's socket, closed only
  once no batch holds it, so a descriptor the loop closed and the kernel reused for another
  connection is never written to.
- **One writer at a time.** While a batch holds a connection, every write the loop makes to it
  (a control message, websockets' ping or close, the next flush if the thread is behind) waits
  in the connection's `GuardedTransport`, as does closing it. When the batch is back, what the
  thread could not send (a full socket buffer) goes to the transport first, then what waited:
  a WebSocket stream is never interleaved mid-message.

Where the extension is not built (no C compiler at install) or under another server, nothing
here is used and the relay writes from the event loop as before.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import errno
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from queue import SimpleQueue
from typing import Any, Protocol

from parvis.live import metrics

log = logging.getLogger("parvis.live")

SendJobs = Callable[[Sequence[tuple["array.array[int]", bytes]]], list[list[tuple[int, int]]]]

try:
    from parvis.live._sendmany import send_jobs as _send_jobs

    SEND_JOBS: SendJobs | None = _send_jobs
except ImportError:  # not compiled at install: the relay writes from the event loop
    SEND_JOBS = None

RETRY_LATER = (errno.EAGAIN, errno.EWOULDBLOCK)
SWITCH_INTERVAL = 0.0005  # seconds; see BatchWriter.submit


class Transport(Protocol):
    """What the relay and the connection write through (an asyncio transport's write side)."""

    def write(self, data: bytes) -> None: ...
    def get_write_buffer_size(self) -> int: ...
    def is_closing(self) -> bool: ...
    def abort(self) -> None: ...
    def close(self) -> None: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


class GuardedTransport:
    """A connection's transport, with its socket shared with the writer thread.

    Everything not listed here goes to the transport itself, so it stands in for it
    wherever the server's protocol object keeps its transport."""

    def __init__(self, transport: Any, fd: int) -> None:
        self._transport = transport
        self.fd = fd  # a dup of the socket, the writer thread's own
        self.batch: Batch | None = None
        self._waiting: list[bytes] = []
        self._then: str | None = None  # "close" or "write_eof", asked for during a batch
        self._release_fd = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    @property
    def in_flight(self) -> bool:
        """A batch holding this socket has not come back yet."""
        return self.batch is not None and not self.batch.done

    def idle(self) -> bool:
        """Nothing waits to be written and no batch holds the socket: the thread may send."""
        transport = self._transport
        return (
            not self.in_flight
            and self.fd >= 0
            and not transport.is_closing()
            and transport.get_write_buffer_size() == 0
        )

    def write(self, data: bytes) -> None:
        """Write now, or after the batch holding the socket is back."""
        if self.in_flight:
            self._waiting.append(bytes(data))
            self._hold()
        else:
            self._transport.write(data)

    def writelines(self, lines: Sequence[bytes]) -> None:
        """Write several buffers in order."""
        self.write(b"".join(lines))

    def close(self) -> None:
        """Close after what was written (including what waits for a batch)."""
        self._end("close")

    def write_eof(self) -> None:
        """Half-close after what was written."""
        self._end("write_eof")

    def _end(self, how: str) -> None:
        if self.in_flight:
            self._then = how
            self._hold()
        else:
            getattr(self._transport, how)()

    def abort(self) -> None:
        """Drop everything and close at once."""
        self._waiting.clear()
        self._then = None
        self._transport.abort()
        self.release_fd()

    def get_write_buffer_size(self) -> int:
        """Bytes the transport holds plus those waiting for a batch."""
        size: int = self._transport.get_write_buffer_size()
        return size + sum(len(data) for data in self._waiting)

    def is_closing(self) -> bool:
        """Closing, or asked to close once a batch is back."""
        closing: bool = self._transport.is_closing()
        return closing or self._then == "close"

    def release_fd(self) -> None:
        """The writer thread is done with this socket: close its descriptor (after the batch
        holding it, if one does)."""
        if self.in_flight:
            self._release_fd = True
            self._hold()
        elif self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _hold(self) -> None:
        assert self.batch is not None
        self.batch.held.append(self)

    def landed_short(self, payload: bytes, result: int) -> None:
        """The thread sent only `result` bytes of `payload` (or failed with -errno)."""
        metrics.WRITER_SHORT.inc()
        if self._transport.is_closing():
            return  # the connection went away meanwhile (uvloop refuses writes to it)
        if result >= 0:
            self._transport.write(payload[result:])
        elif -result in RETRY_LATER:
            self._transport.write(payload)
        # Any other error is a broken connection, which its protocol is told of by the loop.

    def back(self) -> None:
        """The batch is back: write what waited, then close if that was asked, then give
        the descriptor back if that was asked."""
        waiting, self._waiting = self._waiting, []
        then, self._then = self._then, None
        transport = self._transport
        try:
            if not transport.is_closing():  # else it went away meanwhile: nothing to write
                for data in waiting:
                    transport.write(data)
                if then is not None:
                    getattr(transport, then)()
        finally:
            if self._release_fd:
                self._release_fd = False
                self.release_fd()


class Batch:
    """One message for a group of idle sockets, sent by the writer thread."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        guards: list[GuardedTransport],
        payload: bytes,
        received_at: list[float],
    ) -> None:
        self.loop = loop
        self.guards = guards
        self.fds = array.array("i", [guard.fd for guard in guards])
        self.payload = payload
        self.received_at = received_at  # of the media records inside, for the delay metric
        self.done = False
        self.held: list[GuardedTransport] = []  # guards that wrote or closed meanwhile
        for guard in guards:
            guard.batch = self

    def finish(self, short: list[tuple[int, int]], sent_at: float) -> None:
        """Back on the event loop: hand the thread's short sends to the transports, then
        release what waited."""
        self.done = True
        for index, result in short:
            with _logged("handing a short send back"):
                self.guards[index].landed_short(self.payload, result)
        for guard in dict.fromkeys(self.held):
            with _logged("writing what waited for a batch"):
                guard.back()  # one guard's failure must not leave the others held
        for received_at in self.received_at:
            metrics.FRAME_DELAY.observe(max(0.0, sent_at - received_at))
        self.guards, self.held = [], []  # each guard still points here: no cycle left


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        log.exception("live writer: %s failed", what)


class BatchWriter:
    """The process's writer thread (started at the first batch)."""

    def __init__(self, send_jobs: SendJobs) -> None:
        self._send_jobs = send_jobs
        self._queue: SimpleQueue[Batch | None] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, batch: Batch) -> None:
        """Queue a batch; its `finish` runs on its loop once sent."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="parvis-live-writer", daemon=True
                    )
                    # The thread needs the GIL twice a round (to take batches, to hand them
                    # back), from an event loop that seldom lets go of it: at Python's default
                    # switch interval (5 ms) each costs up to 5 ms, which in a join storm put
                    # 20 ms on the frames' median delay and left a tenth of the storm outside.
                    if sys.getswitchinterval() > SWITCH_INTERVAL:
                        sys.setswitchinterval(SWITCH_INTERVAL)
                    self._thread.start()
        metrics.WRITER_QUEUE.inc()
        self._queue.put(batch)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            # Everything queued meanwhile goes in the same call: one GIL hand-over per call.
            batches = [first]
            while not self._queue.empty():
                more = self._queue.get()
                if more is None:
                    self._queue.put(None)
                    break
                batches.append(more)
            metrics.WRITER_QUEUE.dec(len(batches))
            try:
                results = self._send_jobs([(batch.fds, batch.payload) for batch in batches])
            except Exception:  # a bug here must not end the thread: hand everything back
                log.exception("the live writer thread failed a batch")
                results = [[(i, 0) for i in range(len(batch.fds))] for batch in batches]
            sent_at = time.time()
            for batch, short in zip(batches, results, strict=True):
                with contextlib.suppress(RuntimeError):  # its loop is closed: server gone
                    batch.loop.call_soon_threadsafe(batch.finish, short, sent_at)

    def stop(self) -> None:
        """End the thread once the queued batches are sent (tests; a daemon otherwise)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=5)


_shared: BatchWriter | None = None


def shared_writer() -> BatchWriter | None:
    """The process's writer, or None where `_sendmany` was not built."""
    global _shared
    if SEND_JOBS is None:
        return None
    if _shared is None:
        _shared = BatchWriter(SEND_JOBS)
    return _shared


def guard(transport: Any) -> GuardedTransport | None:
    """Wrap a connection's transport for the writer thread, with its own descriptor; None
    where that is not possible (no extension, no socket)."""
    if SEND_JOBS is None or transport.is_closing():
        # A closing transport's descriptor may already be closed and its number reused by
        # another connection, which the thread would then write audio to.
        return None
    sock = transport.get_extra_info("socket")
    if sock is None:
        return None
    try:
        fd = os.dup(sock.fileno())
    except OSError:
        return None
    return GuardedTransport(transport, fd)
