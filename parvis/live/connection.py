"""One WebSocket in a room: the waiting line, the welcome, then commands in and audio out.

Client → server: binary messages are a speaker's MediaRecorder chunks (WebM/Opus); text
messages are JSON commands: `hand` {raised}, `react` {reaction}, `chat` {text},
`manage` {action: speaker|cohost|listener|mute|unmute|remove|block, user_id}, `end`.
Server → client: JSON `waiting` {position, expected_wait_s} until admitted, `welcome`, then
events (`chat`, `reaction`, `hand`, `stage`, `count`, `ended`, `removed`, `error`) and binary
audio records (see `relay`). An `error` refusing a chat line or hand toggle sent too often
(see `quota`) also carries `code: "rate_limited"` and `retry_after_s`.

Under uvicorn, what the server says to one client (waiting, welcome, inits, errors) is written
as ready-made frames straight to the connection's transport, like the relay's audio: an ASGI
send goes through the whole middleware chain, which a join storm pays thousands of times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from parvis.accounts.models import User
from parvis.errors import Conflict, InvalidInput, ParvisError
from parvis.live import chat, rooms, writer
from parvis.live.hub import Hub, RoomInfo
from parvis.live.models import RoomRole, RoomState
from parvis.live.relay import (
    INIT,
    MEDIA,
    OPCODE_BINARY,
    OPCODE_TEXT,
    AsgiSink,
    Record,
    Sink,
    TransportSink,
    websocket_frame,
)
from parvis.live.rooms import Standing
from parvis.live.transport import current_protocol, current_transport
from parvis.live.webm import WebmError, WebmSplitter

log = logging.getLogger("parvis.live")
T = TypeVar("T")
WAIT_UPDATE_SECONDS = 2.0
REACTIONS_PER_SECOND = 4
CLOSE_REMOVED = 4003
CLOSE_ENDED = 4000
CLOSE_BAD_STREAM = 4007
MANAGE_ROLES = {
    "speaker": RoomRole.SPEAKER,
    "cohost": RoomRole.COHOST,
    "listener": RoomRole.LISTENER,
}


class Connection:
    """A listener's or speaker's socket in a room."""

    def __init__(
        self,
        hub: Hub,
        websocket: WebSocket,
        room: RoomInfo,
        user: User | None,
        standing: Standing,
    ) -> None:
        self.hub = hub
        self.websocket = websocket
        self.room_id = room.room_id
        self.user_id = user.id if user else None
        self.username = user.username if user else None
        self.standing = standing
        self.sink: Sink | None = None
        self.splitter: WebmSplitter | None = None
        self.seq = 0
        self._reactions: list[float] = []
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        # Under uvicorn (and unless turned off), the transport written to directly.
        self.transport: writer.Transport | None = (
            current_transport() if hub.settings.live_direct_writes else None
        )

    async def _db(self, work: Callable[[Any], T]) -> T:
        def run() -> T:
            with self.hub.db.session() as session:
                return work(session)

        result: T = await self.hub._run(run)
        return result

    async def send(self, event: dict[str, Any]) -> None:
        """Send one JSON message to this client only."""
        if self.websocket.application_state != WebSocketState.CONNECTED:
            return
        payload = orjson.dumps(event)
        if self.transport is not None:
            if self.transport.is_closing():
                raise WebSocketDisconnect(1006)
            self.transport.write(websocket_frame(OPCODE_TEXT, payload))
        else:
            await self.websocket.send_text(payload.decode())

    async def send_bytes(self, data: bytes) -> None:
        """Send one binary message to this client only."""
        if self.transport is not None:
            if self.transport.is_closing():
                raise WebSocketDisconnect(1006)
            self.transport.write(websocket_frame(OPCODE_BINARY, data))
        else:
            await self.websocket.send_bytes(data)

    async def wait_in_line(self) -> None:
        """Queue behind earlier joiners, telling the client where it stands."""
        line = self.hub.line
        ticket = line.join()
        try:
            while not ticket.admitted.is_set():
                await self.send(
                    {
                        "type": "waiting",
                        "position": line.position(ticket),
                        "expected_wait_s": line.expected_wait(ticket),
                    }
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ticket.admitted.wait(), WAIT_UPDATE_SECONDS)
        finally:
            if not ticket.admitted.is_set():
                line.leave(ticket)

    async def welcome(self) -> dict[str, Any]:
        """What a newly admitted client needs: its role, the stage, hands, recent chat."""
        cached = self.hub.snapshot(self.room_id)
        info = self.hub.room_info(self.room_id)

        def read(session: Any) -> dict[str, Any]:
            room = rooms.get_room(session, self.room_id)
            self.standing = rooms.check_may_join(session, room, self.user_id)
            if cached is not None:
                return cached
            snapshot = {
                "room": {"id": room.id, "title": room.title},
                "stage": _stage(session, self.room_id),
                "hands": _hands(session, self.room_id),
                "chat": [
                    _chat_event(message, username)
                    for message, username in chat.recent(session, self.room_id, 30)
                ],
            }
            self.hub.keep_snapshot(self.room_id, snapshot)
            return snapshot

        if cached is not None and self.user_id is None and info is not None:
            if info.state != RoomState.LIVE.value:
                raise Conflict("This room has ended.")
            snapshot = cached  # an anonymous listener in a live room: nothing to read
        else:
            snapshot = await self._db(read)
        return {
            "type": "welcome",
            **snapshot,
            "me": {"user_id": self.user_id, "username": self.username, "role": self.standing.role},
            "here": len(self.hub.connections.get(self.room_id, ())) + 1,
        }

    async def run(self) -> None:
        """Serve this socket until it closes."""
        if not self.standing.on_stage:
            await self.wait_in_line()
        try:
            welcome = await self.welcome()
        except ParvisError as exc:
            await self.send({"type": "error", "message": exc.message})
            await self.websocket.close(CLOSE_REMOVED if exc.status_code == 403 else CLOSE_ENDED)
            return
        # Subscribe (across processes) before saying welcome: what is said after it is heard.
        relay = await self.hub.relay(self.room_id)
        await self.send(welcome)
        inits = relay.init_message()
        if inits:
            await self.send_bytes(inits)
        self.sink = self._make_sink(shared=relay.writer is not None)
        relay.add(self.sink)
        self.hub.attach(self)
        try:
            await self._receive_loop()
        finally:
            if self.splitter is not None:
                self.hub.event(self.room_id, {"type": "stream_end", "stream": self.user_id})
            await self.hub.detach(self)

    def _make_sink(self, *, shared: bool) -> Sink:
        settings = self.hub.settings
        transport = self.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
            if shared:  # the relay sends through a writer thread (`live.writer`)
                transport = self._share_with_writer(transport)
            return TransportSink(
                transport, settings.live_listener_buffer_bytes, settings.live_stall_seconds
            )
        return AsgiSink(self.websocket, settings.live_listener_queue)

    def _share_with_writer(self, transport: writer.Transport) -> writer.Transport:
        """Put the connection's transport behind a `writer.GuardedTransport`, for the server's
        protocol (its pings and close frames) as for this connection, so that the relay's
        writer thread may send on the socket; unchanged where that is not possible."""
        protocol = current_protocol()
        if protocol is None or id(getattr(protocol, "transport", None)) != id(transport):
            return transport
        guarded = writer.guard(transport)
        if guarded is None:
            return transport
        protocol.transport = guarded
        self.transport = guarded
        return guarded

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is not None:
                await self._audio(data)
                continue
            text = message.get("text")
            if text is None:
                continue
            try:
                command = orjson.loads(text)
                if not isinstance(command, dict):
                    raise ValueError("not an object")
                await self._command(command)
            except ParvisError as exc:
                await self.send({"type": "error", "message": exc.message})
            except (ValueError, KeyError, TypeError):
                await self.send({"type": "error", "message": "Unreadable command."})

    async def _audio(self, data: bytes) -> None:
        if not self.standing.may_speak:
            return  # muted or not on stage: the audio goes nowhere
        if self.splitter is None:
            self.splitter = WebmSplitter()
        try:
            init, clusters = self.splitter.feed(data)
        except WebmError as exc:
            await self.send({"type": "error", "message": f"Audio stream refused: {exc}."})
            await self.websocket.close(CLOSE_BAD_STREAM)
            return
        now = time.time()
        stream = self.user_id or 0
        records = []
        if init is not None:
            self.seq += 1
            records.append(Record(INIT, stream, self.seq, now, init))
        for payload in clusters:
            self.seq += 1
            records.append(Record(MEDIA, stream, self.seq, now, payload))
        if records:
            self.hub.audio(self.room_id, records)

    async def _command(self, command: dict[str, Any]) -> None:
        kind = command.get("type")
        if kind == "ping":
            await self.send({"type": "pong"})
            return
        if self.user_id is None:
            await self.send({"type": "error", "message": "Log in to take part."})
            return
        user_id = self.user_id
        if kind == "react":
            reaction = chat.check_reaction(str(command.get("reaction", "")))
            now = time.monotonic()
            self._reactions = [t for t in self._reactions if now - t < 1.0]
            if len(self._reactions) >= REACTIONS_PER_SECOND:
                return
            self._reactions.append(now)
            self.hub.event(
                self.room_id, {"type": "reaction", "reaction": reaction, "user": self.username}
            )
        elif kind == "hand":
            raised = bool(command.get("raised", True))
            if not await self._allowed("hand"):
                return

            def hand(session: Any) -> list[dict[str, Any]]:
                me = session.get_one(User, user_id)
                rooms.raise_hand(session, self.room_id, me, raised=raised)
                session.flush()
                return _hands(session, self.room_id)

            self.hub.event(self.room_id, {"type": "hand", "hands": await self._db(hand)})
        elif kind == "chat":
            text = str(command.get("text", ""))
            if not await self._allowed("chat"):
                return

            def post(session: Any) -> dict[str, Any]:
                me = session.get_one(User, user_id)
                message = chat.post_message(session, self.room_id, me, text)
                return _chat_event(message, me.username)

            self.hub.event(self.room_id, await self._db(post))
        elif kind == "manage":
            await self._manage(str(command.get("action", "")), int(command["user_id"]))
        elif kind == "end":

            def end(session: Any) -> None:
                rooms.end_room(session, session.get_one(User, user_id), self.room_id)

            await self._db(end)
            self.hub.event(self.room_id, {"type": "ended", "decision_id": None})
        else:
            await self.send({"type": "error", "message": f"Unknown command {kind!r}."})

    async def _allowed(self, action: str) -> bool:
        """Count a chat line or hand toggle against the account's limit; when over it, tell
        the client how long to wait and return False."""
        assert self.user_id is not None
        wait = await self.hub.quota.wait_needed(action, self.user_id)
        if wait is None:
            return True
        await self.send(self.hub.quota.refusal(action, wait))
        return False

    async def _manage(self, action: str, target_id: int) -> None:
        assert self.user_id is not None
        actor_id = self.user_id

        def manage(session: Any) -> dict[str, Any]:
            actor = session.get_one(User, actor_id)
            if action in MANAGE_ROLES:
                rooms.set_role(session, self.room_id, actor, target_id, MANAGE_ROLES[action])
            elif action in ("mute", "unmute"):
                rooms.set_muted(session, self.room_id, actor, target_id, action == "mute")
            elif action in ("remove", "block"):
                rooms.remove(session, self.room_id, actor, target_id, block=action == "block")
            else:
                raise InvalidInput(f"Unknown action {action!r}.")
            session.flush()
            return {
                "type": "stage",
                "user_id": target_id,
                "stage": _stage(session, self.room_id),
                "hands": _hands(session, self.room_id),
            }

        event = await self._db(manage)
        self.hub.event(self.room_id, event)
        if action in ("remove", "block"):
            self.hub.event(self.room_id, {"type": "kick", "user_id": target_id})

    def on_event(self, event: dict[str, Any]) -> None:
        """React to a room event that concerns this socket (called by the hub)."""
        kind = event.get("type")
        if kind == "ended":
            # Let the relay flush the "ended" event first, then close.
            asyncio.get_running_loop().call_later(0.5, self._close_soon, CLOSE_ENDED)
        elif kind == "kick" and event.get("user_id") == self.user_id:
            self._spawn(self._kicked(event.get("decision_id")))
        elif kind == "stage" and event.get("user_id") == self.user_id:
            self._spawn(self._refresh_standing())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _close_soon(self, code: int) -> None:
        if not self._closing:
            self._closing = True
            self._spawn(self._close(code))

    async def _close(self, code: int) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code)

    async def _kicked(self, decision_id: int | None) -> None:
        reason = (
            f"A moderator removed you from this room (decision {decision_id})."
            if decision_id
            else "The host removed you from this room."
        )
        with contextlib.suppress(Exception):
            await self.send({"type": "removed", "message": reason, "decision_id": decision_id})
        self._close_soon(CLOSE_REMOVED)

    async def _refresh_standing(self) -> None:
        def read(session: Any) -> Standing:
            return rooms.standing(session, rooms.get_room(session, self.room_id), self.user_id)

        self.standing = await self._db(read)
        await self.send({"type": "you", "role": self.standing.role, "muted": self.standing.muted})


def _stage(session: Any, room_id: int) -> list[dict[str, Any]]:
    return [
        {"user_id": user_id, "username": username, "role": role, "muted": muted}
        for user_id, username, role, muted in rooms.stage(session, room_id)
    ]


def _hands(session: Any, room_id: int) -> list[dict[str, Any]]:
    return [
        {"user_id": user_id, "username": username}
        for user_id, username in rooms.raised_hands(session, room_id)
    ]


def _chat_event(message: Any, username: str) -> dict[str, Any]:
    return {
        "type": "chat",
        "id": message.id,
        "user": username,
        "html": message.body_html,
        "at": message.created_at.isoformat(),
    }
