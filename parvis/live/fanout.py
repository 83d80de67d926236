"""Fan-out across worker processes through Redis pub/sub (when `PARVIS_REDIS_URL` is set).

Every process publishes what its own speakers and members do in a room on the room's channel
and subscribes to the channels of the rooms it has listeners in; a process ignores its own
messages (it delivered them locally already). Publishing goes through one queue and one task,
so a room's frames reach Redis in the order they were received. Init segments are also kept in
a Redis hash per room, so a process that subscribes mid-stream can serve late joiners.

Message: origin (16 bytes) | kind (b"A" audio records, b"E" JSON event) | body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import redis.asyncio as aioredis

log = logging.getLogger("parvis.live")
AUDIO = b"A"
EVENT = b"E"
INIT_TTL_SECONDS = 12 * 3600
MAX_BATCH = 256  # messages per pipelined round trip to Redis


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

    def channel(self, room_id: int) -> str:
        """The pub/sub channel of a room."""
        return f"{self.prefix}room:{room_id}"

    async def start(self) -> None:
        """Subscribe to the process-wide channel and start reading and publishing."""
        await self.pubsub.subscribe(f"{self.prefix}control")
        self._tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._publish()),
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
        """Queue a message for the other processes (never blocks the caller)."""
        self._outbox.put_nowait(("pub", self.channel(room_id), "", self.origin + kind + body))

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
