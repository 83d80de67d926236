"""Fan-out across worker processes through Redis pub/sub (when `PARVIS_REDIS_URL` is set).

Every process publishes what its own speakers and members do in a room on the room's channel
and subscribes to the channels of the rooms it has listeners in; a process ignores its own
messages (it delivered them locally already). Messages are written to Redis at once, in the
callback that produced them, on one connection kept for publishing (its replies read by a task),
so a room's frames reach Redis in the order they were received; while that connection is down,
they go through a queue and one task instead. Init segments are also kept in a Redis hash per
room, so a process that subscribes mid-stream can serve late joiners.

Message: origin (16 bytes) | kind (b"A" audio records, b"E" JSON event) | body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection

from parvis.live import metrics

log = logging.getLogger("parvis.live")
AUDIO = b"A"
EVENT = b"E"
INIT_TTL_SECONDS = 12 * 3600
MAX_BATCH = 256  # messages per pipelined round trip to Redis
# Audio waiting to reach Redis past this is dropped (counted) rather than buffered without end:
# a Redis that stopped reading must not grow the process. Events are never dropped.
MAX_UNSENT_BYTES = 4 * 1024 * 1024
RECONNECT_SECONDS = 1.0


class RedisBus:
    """One process's link to the others for live rooms."""

    def __init__(
        self,
        url: str,
        prefix: str,
        origin: bytes,
        deliver: Callable[[int, bytes, bytes], None],
    ) -> None:
        self.redis = aioredis.from_url(url)
        self.prefix = f"{prefix}live:"
        self.origin = origin
        self.deliver = deliver
        self.pubsub = self.redis.pubsub()
        # (operation, key or channel, hash field, data), published in order by one task.
        self._outbox: asyncio.Queue[tuple[str, str, str, bytes]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._publisher: AbstractConnection | None = None

    def channel(self, room_id: int) -> str:
        """The pub/sub channel of a room."""
        return f"{self.prefix}room:{room_id}"

    async def start(self) -> None:
        """Subscribe to the process-wide channel and start reading and publishing."""
        await self.pubsub.subscribe(f"{self.prefix}control")
        self._tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._publish()),
            asyncio.create_task(self._keep_publisher()),
        ]

    async def subscribe(self, room_id: int) -> dict[int, bytes]:
        """Receive a room's messages; returns the init segments stored for it."""
        await self.pubsub.subscribe(self.channel(room_id))
        stored = await self.redis.hgetall(f"{self.channel(room_id)}:inits")
        return {int(stream): value for stream, value in stored.items() if isinstance(value, bytes)}

    async def unsubscribe(self, room_id: int) -> None:
        """Stop receiving a room's messages."""
        await self.pubsub.unsubscribe(self.channel(room_id))

    def publish(self, room_id: int, kind: bytes, body: bytes) -> None:
        """Send a message to the other processes now, without waiting for Redis's reply (never
        blocks the caller); queued for the publishing task while the connection is down."""
        channel, message = self.channel(room_id), self.origin + kind + body
        if not self._send_now(channel, message, droppable=kind == AUDIO):
            self._outbox.put_nowait(("pub", channel, "", message))

    def _send_now(self, channel: str, message: bytes, *, droppable: bool) -> bool:
        # redis-py sends only through a coroutine that waits for the socket's buffer to drain
        # (`send_packed_command`), so a frame would leave one event-loop pass later at best, and
        # behind the previous batch's round trip: in a join storm that was half the Redis hop
        # (p99 46 of ~90 ms, bench/README.md). So the connection redis-py opened (with its
        # authentication, database and TLS) is written to directly; `_keep_publisher` reads
        # the replies. Returns False when it cannot take the message (the caller queues it).
        connection = self._publisher
        writer = getattr(connection, "_writer", None)
        if connection is None or writer is None or writer.is_closing():
            return False
        if droppable and writer.transport.get_write_buffer_size() > MAX_UNSENT_BYTES:
            metrics.BUS_UNSENT.inc()
            return True
        writer.writelines(connection.pack_command("PUBLISH", channel, message))
        return True

    async def _keep_publisher(self) -> None:
        # The publishing connection's life: open it, read its replies (PUBLISH answers with a
        # count) so they do not pile up, and open another when it fails.
        while True:
            connection: AbstractConnection = (
                self.redis.connection_pool.make_connection()  # type: ignore[no-untyped-call]
            )
            try:
                await connection.connect()  # type: ignore[no-untyped-call]
                self._publisher = connection
                while True:
                    await connection.read_response()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live: the Redis publishing connection failed; reopening it")
            finally:
                self._publisher = None
                with contextlib.suppress(Exception):
                    await connection.disconnect(nowait=True)
            await asyncio.sleep(RECONNECT_SECONDS)

    def store_init(self, room_id: int, stream: int, init: bytes) -> None:
        """Remember a stream's init segment for processes that subscribe later."""
        self._outbox.put_nowait(("init", f"{self.channel(room_id)}:inits", str(stream), init))

    def forget_init(self, room_id: int, stream: int) -> None:
        """A stream ended."""
        self._outbox.put_nowait(("forget", f"{self.channel(room_id)}:inits", str(stream), b""))

    async def _publish(self) -> None:
        # Everything queued goes in one pipelined round trip: with one command per round trip,
        # a process whose event loop is busy (a join storm) publishes fewer messages a second
        # than a speaker sends, and the other processes' listeners fall seconds behind.
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < MAX_BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                pipe = self.redis.pipeline(transaction=False)
                for operation, key, name, data in batch:
                    if operation == "pub":
                        pipe.publish(key, data)
                    elif operation == "init":
                        pipe.hset(key, name, data)
                        pipe.expire(key, INIT_TTL_SECONDS)
                    else:
                        pipe.hdel(key, name)
                await pipe.execute()
            except Exception:
                log.exception("live: publishing to Redis failed")

    async def _read(self) -> None:
        prefix = f"{self.prefix}room:".encode()
        while True:
            try:
                # `listen` parses every message already received before waiting again.
                async for message in self.pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    channel: bytes = message["channel"]
                    data: bytes = message["data"]
                    if not channel.startswith(prefix) or data[:16] == self.origin:
                        continue
                    try:
                        room_id = int(channel[len(prefix) :])
                    except ValueError:
                        continue
                    self.deliver(room_id, data[16:17], data[17:])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live: reading from Redis failed")
            await asyncio.sleep(1.0)

    async def close(self) -> None:
        """Stop the tasks and close the connections."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            await self.redis.aclose()
