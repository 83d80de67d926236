"""The live rooms of one process: relays, the waiting line, the Redis bridge, room sync.

One `Hub` per application, created on first use inside the running event loop. Everything a
room's clients must hear goes through `event` (JSON for every connection in every process) or
`audio` (records for every listener); both deliver locally at once and publish to Redis when
it is configured. Every `SYNC_SECONDS` the hub re-reads the rooms it serves, so a room ended
or a speaker removed by a moderator's decision — taken in any process, or from the moderation
desk — reaches the connections here. The hub also holds the per-account limits on chat and
hands (`quota`), the recordings of the speakers connected here (`recording`), and the guard
that keeps full garbage collections out of join storms (`heap`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select

from parvis.config import Settings
from parvis.live import metrics, recording
from parvis.live.admission import WaitingLine
from parvis.live.fanout import AUDIO, EVENT, RedisBus
from parvis.live.heap import HeapGuard
from parvis.live.models import Room, RoomParticipant, RoomState
from parvis.live.quota import Quota
from parvis.live.relay import INIT, Record, RoomRelay, decode_records, encode_records
from parvis.live.writer import shared_writer
from parvis.storage.base import utcnow
from parvis.storage.database import Database

if TYPE_CHECKING:
    from parvis.live.connection import Connection

log = logging.getLogger("parvis.live")
SYNC_SECONDS = 2.0
SNAPSHOT_SECONDS = 10.0
# Fewer joins than this between two syncs, and nobody waiting: a quiet moment (see `heap`).
QUIET_JOINS = 50
# Events every client sees; the others only steer the processes holding a member's sockets.
CLIENT_EVENTS = frozenset({"chat", "reaction", "hand", "stage", "ended", "count", "removed"})


@dataclass
class RoomInfo:
    """What joins need to know of a room without a query each."""

    room_id: int
    host_id: int
    state: str
    title: str
    recording: bool = False


class Hub:
    """The live rooms this process serves."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.origin = uuid.uuid4().bytes
        self.loop = asyncio.get_running_loop()
        self.relays: dict[int, RoomRelay] = {}
        self.connections: dict[int, set[Connection]] = defaultdict(set)
        self.rooms: dict[int, RoomInfo] = {}
        self.line = WaitingLine(
            settings.live_admissions_per_second,
            settings.live_admission_burst,
            lag_limit=settings.live_admission_lag_ms / 1000 or None,
        )
        self.bus: RedisBus | None = None
        if settings.redis_url:
            self.bus = RedisBus(
                settings.redis_url, settings.live_redis_prefix, self.origin, self._from_bus
            )
        self._started = False
        self._start_lock = asyncio.Lock()
        self._sync_task: asyncio.Task[None] | None = None
        self._last_sync: datetime = utcnow()
        self._counts: dict[int, int] = {}
        self._snapshots: dict[int, tuple[float, dict[str, Any]]] = {}
        self.heap = HeapGuard()
        self.quota = Quota(settings)
        self.recorder = recording.Recorder(settings)
        self._joins_since_sync = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Connect to Redis and start the sync loop (once)."""
        async with self._start_lock:
            if self._started:
                return
            if self.bus is not None:
                await self.bus.start()
            self._sync_task = asyncio.create_task(self._sync_forever())
            self._started = True

    async def close(self) -> None:
        """Stop everything (application shutdown)."""
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        for relay in self.relays.values():
            relay.close()
        self.recorder.close()
        await self.line.close()
        if self.bus is not None:
            await self.bus.close()

    # Rooms -----------------------------------------------------------------------------

    def room_info(self, room_id: int) -> RoomInfo | None:
        """The room's cached facts (loaded on first use; refreshed by the sync loop)."""
        info = self.rooms.get(room_id)
        if info is None:
            with self.db.session() as session:
                room = session.get(Room, room_id)
                if room is None:
                    return None
                info = RoomInfo(room.id, room.host_id, room.state, room.title, room.recording)
            if info.state == RoomState.LIVE.value:
                self.rooms[room_id] = info
        return info

    def forget_room(self, room_id: int) -> None:
        """Drop the cached facts (after a state change made here)."""
        self.rooms.pop(room_id, None)
        self._snapshots.pop(room_id, None)

    def snapshot(self, room_id: int) -> dict[str, Any] | None:
        """The room's stage, hands and recent chat as last read, if under `SNAPSHOT_SECONDS`
        old: a join storm reads them once, not once per joiner. Any stage, hand or chat event
        (from this process or another, through Redis) drops it, so it is never staler than
        that; the age limit only bounds what a missed event could leave behind."""
        cached = self._snapshots.get(room_id)
        if cached is None or time.monotonic() - cached[0] > SNAPSHOT_SECONDS:
            return None
        return cached[1]

    def keep_snapshot(self, room_id: int, snapshot: dict[str, Any]) -> None:
        """Remember what was just read for the next joiners."""
        self._snapshots[room_id] = (time.monotonic(), snapshot)

    async def relay(self, room_id: int) -> RoomRelay:
        """The room's relay in this process (subscribing to Redis for it the first time)."""
        relay = self.relays.get(room_id)
        if relay is None:
            relay = RoomRelay(
                room_id,
                self.settings.live_flush_ms / 1000,
                max_writes=self.settings.live_max_writes_per_second,
                writer=shared_writer() if self.settings.live_writer_thread else None,
            )
            self.relays[room_id] = relay
            if self.bus is not None:
                for stream, init in (await self.bus.subscribe(room_id)).items():
                    relay.inits.setdefault(stream, decode_records(init)[0])
        return relay

    def attach(self, connection: Connection) -> None:
        """Count a connection as present in its room."""
        self.connections[connection.room_id].add(connection)
        self.heap.joined()
        self._joins_since_sync += 1
        metrics.LISTENERS.labels(str(connection.room_id)).set(
            len(self.connections[connection.room_id])
        )

    async def detach(self, connection: Connection) -> None:
        """Forget a connection; a room with nobody left here is released."""
        room_id = connection.room_id
        present = self.connections.get(room_id)
        if present is not None and connection in present:
            present.discard(connection)
            self.heap.departed()
            metrics.LISTENERS.labels(str(room_id)).set(len(present))
        relay = self.relays.get(room_id)
        if relay is not None and connection.sink is not None:
            relay.discard(connection.sink)
        if present is not None and not present:
            del self.connections[room_id]
            with contextlib.suppress(KeyError):
                metrics.LISTENERS.remove(str(room_id))
            relay = self.relays.pop(room_id, None)
            if relay is not None:
                relay.close()
            if self.bus is not None:
                await self.bus.unsubscribe(room_id)

    # What rooms hear ---------------------------------------------------------------------

    def audio(self, room_id: int, records: list[Record]) -> None:
        """Relay a speaker's records to every listener here and in the other processes."""
        relay = self.relays.get(room_id)
        if relay is not None:
            relay.publish(records)
        info = self.rooms.get(room_id)
        if info is not None and info.recording:
            self.recorder.write(room_id, records)
        if self.bus is not None:
            self.bus.publish(room_id, AUDIO, encode_records(records))
            for record in records:
                if record.kind == INIT:
                    self.bus.store_init(room_id, record.stream, record.encode())

    def event(self, room_id: int, event: dict[str, Any]) -> None:
        """Tell every connection of a room (here and elsewhere) something happened."""
        payload = orjson.dumps(event)
        self._apply(room_id, event, payload)
        if self.bus is not None:
            self.bus.publish(room_id, EVENT, payload)
            if event.get("type") == "stream_end":
                self.bus.forget_init(room_id, int(event["stream"]))

    def _from_bus(self, room_id: int, kind: bytes, body: bytes) -> None:
        if kind == AUDIO:
            relay = self.relays.get(room_id)
            if relay is not None:
                records = decode_records(body)
                now = time.time()
                for record in records:
                    metrics.BUS_DELAY.observe(max(0.0, now - record.received_at))
                relay.publish(records)
        elif kind == EVENT:
            self._apply(room_id, orjson.loads(body), body)

    def _apply(self, room_id: int, event: dict[str, Any], payload: bytes) -> None:
        kind = event.get("type")
        if kind in ("stage", "hand", "chat"):
            self._snapshots.pop(room_id, None)
        relay = self.relays.get(room_id)
        if relay is not None and kind in CLIENT_EVENTS:
            relay.event(payload, essential=kind == "ended")
        if kind == "stream_end":
            if relay is not None:
                relay.end_stream(int(event["stream"]))
            self.recorder.end_stream(room_id, int(event["stream"]))
        if kind == "ended":
            info = self.rooms.get(room_id)
            self.forget_room(room_id)
            if self.recorder.end_room(room_id) or (info is not None and info.recording):
                self._spawn(self.publish_recording(room_id))
        if kind in ("stage", "kick", "ended"):
            for connection in list(self.connections.get(room_id, ())):
                connection.on_event(event)

    # Sync with the database ----------------------------------------------------------------

    async def publish_recording(self, room_id: int) -> None:
        """Publish the room's finished recording parts (after it ended; see `recording`)."""

        def work() -> None:
            with self.db.session() as session:
                recording.publish(session, self.settings, room_id)

        try:
            await self._run(work)
        except Exception:
            log.exception("live: publishing the recording of room %d failed", room_id)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(SYNC_SECONDS)
            try:
                await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live: room sync failed")
            quiet = not len(self.line) and self._joins_since_sync < QUIET_JOINS
            self._joins_since_sync = 0
            self.heap.maybe_reclaim(quiet=quiet, serving=bool(self.connections))

    async def sync(self) -> None:
        """Apply room ends and removals written anywhere (moderation decisions included),
        and tell listeners how many are present."""
        room_ids = list(self.connections)
        if not room_ids:
            return
        since = self._last_sync
        self._last_sync = utcnow()

        def read() -> tuple[list[tuple[int, str, int | None]], list[tuple[int, int, int | None]]]:
            with self.db.session() as session:
                rooms = session.execute(
                    select(Room.id, Room.state, Room.ended_by_decision_id).where(
                        Room.id.in_(room_ids)
                    )
                ).all()
                removed = session.execute(
                    select(
                        RoomParticipant.room_id,
                        RoomParticipant.user_id,
                        RoomParticipant.removed_by_decision_id,
                    ).where(
                        RoomParticipant.room_id.in_(room_ids),
                        RoomParticipant.removed.is_(True),
                        RoomParticipant.updated_at >= since,
                    )
                ).all()
                return [tuple(row) for row in rooms], [tuple(row) for row in removed]  # type: ignore[misc]

        rooms, removed = await self._run(read)
        for room_id, state, decision_id in rooms:
            if state != RoomState.LIVE.value:
                self._apply(
                    room_id,
                    event := {"type": "ended", "decision_id": decision_id},
                    orjson.dumps(event),
                )
        for room_id, user_id, decision_id in removed:
            event = {"type": "kick", "user_id": user_id, "decision_id": decision_id}
            self._apply(room_id, event, orjson.dumps(event))
        for room_id, present in self.connections.items():
            count = len(present)
            if self._counts.get(room_id) != count:
                self._counts[room_id] = count
                relay = self.relays.get(room_id)
                if relay is not None:
                    relay.event(orjson.dumps({"type": "count", "here": count}))

    async def _run(self, work: Callable[[], Any]) -> Any:
        if self.settings.is_sqlite:
            return work()
        return await asyncio.to_thread(work)


def hub_for(state: Any, settings: Settings, db: Database) -> Hub:
    """The application's hub, created in the running loop on first use (a test client with a
    new loop gets a new one)."""
    hub: Hub | None = getattr(state, "live_hub", None)
    if hub is None or hub.loop is not asyncio.get_running_loop():
        hub = Hub(settings, db)
        state.live_hub = hub
    return hub
