"""Fan-out of social events to streaming connections: in-process, or through Redis pub/sub
when `redis_url` is set so that every worker's subscribers hear every worker's writes.

The social write path announces committed events through `social.events`; the broker's hook
runs in the committing thread, so handing an event to a connection goes through
`call_soon_threadsafe` onto that connection's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
from dataclasses import asdict

import redis
import redis.asyncio as aioredis

from parvis.runtime import Runtime
from parvis.social import events
from parvis.social.events import EventKind, SocialEvent

log = logging.getLogger("parvis.api.streaming")
QUEUE_SIZE = 1000  # events a slow connection may fall behind by before it is dropped


class Subscription:
    """One streaming connection's inbox."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[SocialEvent] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, event: SocialEvent) -> None:
        """Queue an event (from any thread)."""
        with contextlib.suppress(RuntimeError):  # the connection's loop has closed
            self.loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: SocialEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


CLOSE_WAIT_SECONDS = 2.0


async def _cancelled(task: asyncio.Task[None]) -> None:
    """Cancel a task and wait until it has finished (on the task's own loop)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _stop(listener: asyncio.Task[None]) -> None:
    """Cancel a listener and wait until it has closed its connection, on whichever loop runs
    it (a little, when that is another loop)."""
    if listener.done():
        return
    loop = listener.get_loop()
    if loop is asyncio.get_running_loop():
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
    elif not loop.is_closed():
        # Started by a server on another loop (tests serve one app from two): that loop runs
        # the cancellation, and the listener closes its connection there. Wait for it (a
        # little), or that loop may close first, its connection open.
        stopped = asyncio.run_coroutine_threadsafe(_cancelled(listener), loop)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.wrap_future(stopped), CLOSE_WAIT_SECONDS)


class Broker:
    """Subscriptions of one app, fed by its database's committed social events."""

    def __init__(self, runtime: Runtime) -> None:
        self.database = runtime.db.engine.url.render_as_string(hide_password=True)
        self.redis_url = runtime.settings.redis_url
        digest = hashlib.sha256(self.database.encode()).hexdigest()[:16]
        self.channel = f"parvis:stream:{digest}"
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()
        self._publisher: redis.Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        # Listeners cancelled when their last subscriber left, until they have closed their
        # connection: `close` waits for them too (their loop may be about to close).
        self._stopping: set[asyncio.Task[None]] = set()
        self._ready: asyncio.Event | None = None
        events.register(self.on_social_event)

    def on_social_event(self, event: SocialEvent) -> None:
        """The social hook: publish to Redis when configured, else fan out here."""
        if event.database != self.database:
            return  # another app in this process (tests), another database
        if not self.redis_url:
            self.fan_out(event)
            return
        if self._publisher is None:
            self._publisher = redis.Redis.from_url(self.redis_url)
        try:
            self._publisher.publish(self.channel, json.dumps(asdict(event)))
        except redis.RedisError:
            log.exception("could not publish a stream event to Redis; delivering locally")
            self.fan_out(event)

    def fan_out(self, event: SocialEvent) -> None:
        """Give an event to every subscription of this process."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.offer(event)

    def subscribe(self) -> Subscription:
        """A new inbox on the running event loop (starts the Redis listener if needed)."""
        loop = asyncio.get_running_loop()
        subscription = Subscription(loop)
        with self._lock:
            self._subscriptions.add(subscription)
        if self.redis_url and (self._listener is None or self._listener.done()):
            self._ready = asyncio.Event()
            self._listener = loop.create_task(self._listen(self._ready))
        return subscription

    async def ready(self, timeout: float = 2.0) -> None:
        """Wait until events published now will be heard (the Redis subscription is live)."""
        if self._ready is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Drop an inbox; the Redis listener stops with the last one."""
        with self._lock:
            self._subscriptions.discard(subscription)
            idle = not self._subscriptions
        if idle and self._listener is not None:
            listener, self._listener = self._listener, None
            with self._lock:
                self._stopping.add(listener)
            listener.add_done_callback(self._stopped)
            listener.cancel()

    def _stopped(self, listener: asyncio.Task[None]) -> None:
        with self._lock:  # called on the listener's loop, maybe not the closing one's
            self._stopping.discard(listener)

    async def close(self) -> None:
        """Stop listening to Redis and close this broker's connections (application shutdown:
        a listener left running when its event loop closes never closes its connection)."""
        with self._lock:
            listeners = [*self._stopping]
        if self._listener is not None:
            listeners.append(self._listener)
            self._listener = None
        for listener in listeners:
            await _stop(listener)
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close()

    @property
    def subscriber_count(self) -> int:
        """Open streaming connections in this process."""
        with self._lock:
            return len(self._subscriptions)

    async def _listen(self, ready: asyncio.Event) -> None:
        """Relay this database's events from Redis to local subscriptions, reconnecting."""
        while True:
            client = aioredis.Redis.from_url(self.redis_url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "subscribe":
                            ready.set()  # confirmed by the server: nothing published is missed
                        if message.get("type") != "message":
                            continue
                        data = json.loads(message["data"])
                        data["kind"] = EventKind(data["kind"])
                        self.fan_out(SocialEvent(**data))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("stream listener lost Redis; retrying in a second")
                await asyncio.sleep(1)
            finally:
                await client.aclose()
