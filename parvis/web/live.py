"""Live room pages (list, schedule form, room page, host and moderator forms) and the room's
WebSocket. The socket authenticates with the session cookie and refuses other sites' pages
(Origin check), so a page elsewhere cannot act with a member's cookie."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Request, WebSocket
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from parvis.accounts import services as accounts
from parvis.accounts.models import User
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.live import chat, recording, rooms
from parvis.live.connection import CLOSE_ENDED, CLOSE_REMOVED, Connection
from parvis.live.hub import hub_for
from parvis.live.models import Room, RoomRole, RoomState
from parvis.live.transport import current_transport
from parvis.moderation import publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Automation, Source, SubjectType
from parvis.moderation.services import take_decision
from parvis.runtime import Runtime, get_runtime
from parvis.web.common import errors_of, redirect
from parvis.web.headers import CSP
from parvis.web.session import SESSION_COOKIE, Page, load_page
from parvis.web.templating import render

# MediaSource plays from a blob: URL, which the site-wide policy (media from 'self') forbids.
ROOM_CSP = CSP + "; media-src 'self' blob:"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The hub is closed at shutdown. (Reminders run with the server's other loops, in
    `app`.)"""
    yield
    hub = getattr(app.state, "live_hub", None)
    if hub is not None:
        await hub.close()


router = APIRouter(prefix="/live", lifespan=lifespan)

# The room socket's handshakes are also served ahead of the framework (`socket_room_id`,
# `serve_room_socket`, called by `parvis.app.ParvisApp` behind the shield alone): FastAPI's
# route walk, its dependency machinery, its telemetry wrapper and Starlette's middleware
# chain (error pages, exception handling, CORS, body limits, security headers: nothing a
# WebSocket handshake uses) cost a sixth of what a join costs the server, and a join storm
# pays them thousands of times (figures in bench/README.md, live rooms). The FastAPI route
# below answers the same path for anything that does not go through `ParvisApp`.
_SOCKET_PATH = re.compile(r"/live/rooms/([0-9]{1,18})/ws")


def socket_room_id(path: str) -> int | None:
    """The room whose socket `path` is, if it is a room socket's path."""
    match = _SOCKET_PATH.fullmatch(path)
    return int(match[1]) if match else None


async def serve_room_socket(scope: Scope, receive: Receive, send: Send) -> None:
    """The room socket as a plain ASGI app; `scope["path_params"]` holds its `room_id`."""
    await room_socket(WebSocket(scope, receive, send), scope["path_params"]["room_id"])


SCHEDULE_FIELDS = [
    {"name": "title", "label": "Title", "required": True},
    {"name": "description", "label": "Description (optional)", "type": "textarea", "rows": 3},
    {
        "name": "starts_at",
        "label": "Starts at",
        "type": "datetime-local",
        "help": "Your local time. Leave empty and tick 'Open now' to start at once.",
    },
    {"name": "tz_offset", "type": "hidden", "value": "0"},
    {"name": "start_now", "label": "Open now", "type": "checkbox"},
    {"name": "recording", "label": "Keep a recording", "type": "checkbox"},
]


def _schedule_form(
    request: Request, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None
) -> Response:
    return render(
        request,
        "live/schedule.html",
        {
            "heading": "Schedule a live room",
            "intro": "An audio room: you host, invite speakers, listeners raise hands and chat. "
            "Your followers are told when it is scheduled and when it starts.",
            "action": "/live/new",
            "fields": SCHEDULE_FIELDS,
            "submit": "Schedule",
            "errors": errors,
            "values": values,
        },
        status_code=422 if errors else 200,
    )


@router.get("")
def listing(
    request: Request, page: Page = Depends(load_page), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Live rooms now and the ones coming up."""
    with runtime.db.session() as session:
        live, upcoming = rooms.listing(session)
        hosts = _hosts(session, live + upcoming)
        return render(
            request, "live/list.html", {"live": live, "upcoming": upcoming, "hosts": hosts}
        )


@router.get("/new")
def schedule_form(request: Request, page: Page = Depends(load_page)) -> Response:
    """The form to schedule or open a room."""
    page.require_user()
    return _schedule_form(request)


def _parse_start(starts_at: str, tz_offset: str, start_now: str) -> datetime | None:
    if start_now:
        return None
    if not starts_at:
        raise InvalidInput("Give a start time, or tick 'Open now'.", "starts_at")
    try:
        local = datetime.fromisoformat(starts_at)
        offset = int(tz_offset or "0")
    except ValueError as exc:
        raise InvalidInput("Give the start time as date and time.", "starts_at") from exc
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    # getTimezoneOffset(): minutes to add to local time to get UTC.
    return (local + timedelta(minutes=offset)).replace(tzinfo=UTC)


@router.post("/new")
def schedule(
    request: Request,
    title: str = Form(""),
    description: str = Form(""),
    starts_at: str = Form(""),
    tz_offset: str = Form("0"),
    start_now: str = Form(""),
    recording: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Schedule a room (or open it now) and go to its page."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    values = {"title": title, "description": description, "starts_at": starts_at}
    try:
        start = _parse_start(starts_at, tz_offset, start_now)
        with runtime.db.session() as session:
            room = rooms.schedule_room(
                session,
                session.get_one(User, user.id),
                title=title,
                description=description,
                starts_at=start,
                recording=bool(recording),
            )
            room_id = room.id
    except InvalidInput as exc:
        return _schedule_form(request, errors_of(exc), values)
    return redirect(f"/live/rooms/{room_id}")


@router.get("/rooms/{room_id}")
def room_page(
    request: Request,
    room_id: int,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The room: stage, hands, chat, and the player or microphone."""
    with runtime.db.session() as session:
        room = rooms.get_room(session, room_id)
        if (
            room.recording
            and room.state == RoomState.ENDED.value
            and recording.pending(session, runtime.settings, room.id)
        ):
            # Normally published when the room ends; this catches parts whose process
            # stopped before it could (they are taken as finished once untouched for a while).
            recording.publish(session, runtime.settings, room.id)
        host = session.get_one(User, room.host_id)
        mine = rooms.standing(session, room, page.user.id if page.user else None)
        rulebook = None
        if page.user is not None and page.user.is_moderator:
            current = publication.in_force(session)
            rulebook = current[1] if current else None
        response = render(
            request,
            "live/room.html",
            {
                "room": room,
                "host": host,
                "mine": mine,
                "stage": rooms.stage(session, room.id),
                "chat": chat.recent(session, room.id, 30),
                "reactions": chat.REACTIONS,
                "rules": rulebook.rules if rulebook else [],
                "recordings": recording.recordings(session, room.id) if room.recording else [],
                "recording_pending": room.recording
                and recording.pending(session, runtime.settings, room.id),
                "withheld": _withheld_for(session, runtime, page, room.id),
            },
        )
    response.headers["Content-Security-Policy"] = ROOM_CSP
    return response


def _withheld_for(
    session: Session, runtime: Runtime, page: Page, room_id: int
) -> list[tuple[recording.WithheldPart, str]]:
    """The withheld parts with their speakers' names, for a moderator; nothing for others."""
    if page.user is None or not page.user.is_moderator:
        return []
    parts = recording.withheld(session, runtime.settings, room_id)
    names: dict[int, str] = {
        row.id: row.username
        for row in session.execute(
            select(User.id, User.username).where(User.id.in_({p.speaker_id for p in parts}))
        )
    }
    return [(part, names.get(part.speaker_id, "a former member")) for part in parts]


def _host_action(runtime: Runtime, page: Page, room_id: int, csrf_token: str, what: str) -> None:
    page.check_csrf(csrf_token)
    user = page.require_user()
    with runtime.db.session() as session:
        me = session.get_one(User, user.id)
        if what == "open":
            rooms.open_room(session, me, room_id)
        else:
            rooms.end_room(session, me, room_id)
            session.flush()
            # Parts already finished are published now; the processes still writing some
            # publish theirs when their sync sees the end (within a couple of seconds).
            recording.publish(session, runtime.settings, room_id)


@router.post("/rooms/{room_id}/open")
def open_room(
    room_id: int,
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The host opens a scheduled room."""
    _host_action(runtime, page, room_id, csrf_token, "open")
    return redirect(f"/live/rooms/{room_id}")


@router.post("/rooms/{room_id}/end")
def end_room(
    room_id: int,
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The host ends the room (connected clients hear it within a couple of seconds)."""
    _host_action(runtime, page, room_id, csrf_token, "end")
    return redirect(f"/live/rooms/{room_id}")


@router.post("/rooms/{room_id}/moderate")
def moderate(
    room_id: int,
    rule: str = Form(""),
    facts: str = Form(""),
    target: str = Form("room"),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """A moderator ends the room or removes a speaker — by a decision citing a rule, with its
    statement of reasons; then goes to that statement."""
    page.check_csrf(csrf_token)
    moderator = page.require_user()
    if not moderator.is_moderator:
        raise PermissionDenied("Only moderators can take decisions on rooms.")
    key = str(room_id) if target == "room" else f"{room_id}/{_int(target, 'target')}"
    with runtime.db.session() as session:
        rooms.get_room(session, room_id)
        row = publication.get_version(session)
        try:
            rule_obj = publication.parsed(row).rule(rule)
        except KeyError as exc:
            raise InvalidInput(f"The rulebook in force has no rule '{rule}'.", "rule") from exc
        decision = take_decision(
            session,
            runtime.services,
            DecisionRequest(
                subject_type=SubjectType.ROOM,
                subject_key=key,
                action=Action.REMOVE,
                rule=rule_obj.info(row.version),
                facts=facts,
                source=Source.OWN_INITIATIVE,
                automated_detection=False,
                automated_decision=Automation.NOT_AUTOMATED,
                decided_by_id=moderator.id,
                territorial_scope=list(rule_obj.territorial_scope),
            ),
        )
        decision_id = decision.id
    return redirect(f"/statements/{decision_id}")


@router.get("/rooms/{room_id}/withheld/{name}")
def withheld_recording(
    room_id: int,
    name: str,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """One part of a recording a moderation decision kept from publication: moderators only
    (it is the decision's evidence), never cached."""
    viewer = page.require_user()
    if not viewer.is_moderator:
        raise PermissionDenied("Only moderators can hear a recording a decision withheld.")
    with runtime.db.session(read_only=True) as session:
        path = recording.withheld_file(session, runtime.settings, room_id, name)
    if not path.exists():
        raise NotFound("No such withheld recording in this room.")
    return FileResponse(
        path,
        media_type="audio/webm",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"},
    )


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidInput(f"'{name}' must be a number.", name) from exc


@router.get("/hosts/{username}/rooms")
def profile_rooms(
    request: Request,
    username: str,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The host's live and upcoming rooms, as a fragment for their profile page."""
    with runtime.db.session() as session:
        host = accounts.get_user_by_username(session, username)
        shown = [
            room
            for room in rooms.rooms_of(session, host.id)
            if room.state in (RoomState.LIVE.value, RoomState.SCHEDULED.value)
        ]
        return render(request, "live/profile_rooms.html", {"rooms": shown, "host": host})


def _hosts(session: Any, found: list[Room]) -> dict[int, User]:
    ids = {room.host_id for room in found}
    return {user_id: session.get_one(User, user_id) for user_id in ids}


def _same_origin(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    if not origin:
        return True  # not a browser page (browsers always send Origin on WebSockets)
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


@router.websocket("/rooms/{room_id}/ws")
async def room_socket(websocket: WebSocket, room_id: int) -> None:
    """Listen (and, on stage, speak) in a room; see `live.connection` for the protocol."""
    runtime: Runtime = websocket.app.state.runtime
    if not _same_origin(websocket):
        await websocket.close(code=1008, reason="cross-site socket refused")
        return
    hub = hub_for(websocket.app.state, runtime.settings, runtime.db)
    await hub.start()
    info = hub.room_info(room_id)
    await websocket.accept()
    transport = current_transport()
    if transport is not None and transport.is_closing():
        # The listener gave up while the handshake waited (a join storm's accept queue), so
        # uvicorn skipped the accept; answering with a close spares it an error in the log for
        # a socket nobody is on any more.
        with contextlib.suppress(OSError):
            await websocket.close()
        return
    if info is None or info.state != RoomState.LIVE.value:
        message = "No such room." if info is None else "This room is not live."
        await websocket.send_json({"type": "error", "message": message})
        await websocket.close(CLOSE_ENDED)
        return
    user = None
    standing = rooms.Standing(user_id=None, role=RoomRole.LISTENER)
    raw = websocket.cookies.get(SESSION_COOKIE)
    if raw:
        try:

            def resolve() -> tuple[User | None, rooms.Standing]:
                with runtime.db.session() as session:
                    resolved = accounts.resolve_web_session(session, raw)
                    if resolved is None:
                        return None, standing
                    member = resolved[1]
                    session.expunge(member)
                    room = rooms.get_room(session, room_id)
                    return member, rooms.standing(session, room, member.id)

            user, standing = await hub._run(resolve)
        except NotFound:
            await websocket.close(CLOSE_ENDED)
            return
    if standing.blocked:
        await websocket.send_json(
            {"type": "error", "message": "The host blocked you from this room."}
        )
        await websocket.close(CLOSE_REMOVED)
        return
    try:
        await Connection(hub, websocket, info, user, standing).run()
    except (WebSocketDisconnect, OSError):
        return  # the client left (uvicorn's ClientDisconnected is an OSError)
    except RuntimeError as exc:
        # uvicorn refuses sends on a socket the client closed while it waited in line (its
        # handshake never completed): the client is gone, nothing to tell anyone.
        if "ASGI message" not in str(exc):
            raise
