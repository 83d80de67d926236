"""Mastodon's streaming API: the `/api/v1/streaming` WebSocket (subscribe/unsubscribe
messages, token by `access_token` query parameter, `Sec-WebSocket-Protocol` or bearer header)
and the older server-sent-event endpoints (`/api/v1/streaming/user`, `/public`, ...) that
libraries such as Mastodon.py use by default.

Streams: `user` (home feed and notifications), `user:notification`, `public`, `public:local`
(the same on a single server), `public:media`, `hashtag` and `hashtag:local` (with `tag`).
Events: `update`, `status.update`, `delete` and `notification`, with the payload a JSON string
as Mastodon sends it. Every event is rendered for its subscriber: blocks, mutes, muted words
and moderation restrictions are obeyed as in the timelines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, WebSocket
from fastapi.websockets import WebSocketDisconnect
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from parvis.accounts.models import User
from parvis.accounts.tokens import hash_token
from parvis.api import entities
from parvis.api.auth import Caller, optional_caller, require_if_token
from parvis.api.models import OAuthToken
from parvis.api.notifications import notification_entities
from parvis.api.stream_broker import Broker, Subscription
from parvis.errors import InvalidInput, ParvisError, Unauthenticated
from parvis.moderation.enforcement import undiscoverable_post_ids
from parvis.moderation.models import PostRestriction
from parvis.runtime import Runtime, get_runtime
from parvis.social import posts
from parvis.social.events import EventKind, SocialEvent
from parvis.social.models import Follow, Notification, NotificationKind, Post, PostTag
from parvis.social.views import build_view
from parvis.social.visibility import ANONYMOUS, Viewer, load_viewer

router = APIRouter(tags=["streaming"])
HEARTBEAT_SECONDS = 15.0
USER_STREAMS = ("user", "user:notification")
PUBLIC_STREAMS = ("public", "public:local", "public:media", "public:local:media")
TAG_STREAMS = ("hashtag", "hashtag:local")
NO_STREAMS = ("public:remote", "public:remote:media")  # no other servers: never an event
STREAMS = USER_STREAMS + PUBLIC_STREAMS + TAG_STREAMS + NO_STREAMS


@dataclass(frozen=True)
class Stream:
    """One subscribed stream (`tag` for hashtag streams)."""

    name: str
    tag: str | None = None

    @property
    def label(self) -> list[str]:
        """The `stream` array of a WebSocket message."""
        return [self.name, self.tag] if self.tag else [self.name]


@dataclass(frozen=True)
class Message:
    """One event for one stream, with its payload already a string."""

    stream: Stream
    event: str
    payload: str


def install_streaming(app: FastAPI, runtime: Runtime) -> None:
    """Create the app's broker (so this worker publishes its writes even before anyone here
    subscribes) and mount the streaming routes."""
    app.state.stream_broker = Broker(runtime)
    app.include_router(router)


def _broker(connection: Request | WebSocket) -> Broker:
    broker: Broker = connection.app.state.stream_broker
    return broker


def parse_stream(name: str, tag: str | None, who: Caller | None) -> Stream:
    """Check a stream name (and tag, and that user streams have a member's token)."""
    if name not in STREAMS:
        raise InvalidInput(f"Unknown stream type '{name}'; streams: {', '.join(STREAMS)}.")
    if name in USER_STREAMS:
        if who is None or who.user_id is None:
            raise Unauthenticated("The user stream needs a member's access token.")
        who.require("read:statuses" if name == "user" else "read:notifications")
        return Stream(name)
    require_if_token(who, "read:statuses")  # public streams need no token
    if name in TAG_STREAMS:
        clean = (tag or "").strip().lstrip("#").lower()
        if not clean:
            raise InvalidInput("A hashtag stream needs its tag (tag=...).")
        return Stream(name, clean)
    return Stream(name)


# --- rendering an event for one subscriber -------------------------------------------------


def _follows(session: Any, me: int, other: int) -> bool:
    return session.get(Follow, (me, other)) is not None


def _in_home(session: Any, me: int, post: Post) -> bool:
    if post.author_id == me:
        return True
    if not _follows(session, me, post.author_id):
        return False
    reply_to = post.in_reply_to_account_id
    return reply_to is None or reply_to == me or _follows(session, me, reply_to)


def _discoverable(session: Any, post: Post) -> bool:
    hidden = session.scalar(
        undiscoverable_post_ids().where(PostRestriction.post_id == post.id).limit(1)
    )
    return post.visibility == "public" and post.reblog_of_id is None and hidden is None


def _post_messages(
    session: Any, runtime: Runtime, viewer: Viewer, streams: set[Stream], event: SocialEvent
) -> list[Message]:
    post = session.get(Post, event.post_id)
    if post is None or not posts.may_view(viewer, post):
        return []
    original = session.get(Post, post.reblog_of_id) if post.reblog_of_id else post
    if original is None or not posts.may_view(viewer, original):
        return []
    wanted: list[Stream] = []
    for stream in streams:
        if stream.name == "user":
            if viewer.user_id is not None and _in_home(session, viewer.user_id, post):
                wanted.append(stream)
        elif stream.name in PUBLIC_STREAMS or stream.name in TAG_STREAMS:
            if not _discoverable(session, post):
                continue
            if stream.name.endswith("media") and not build_view(session, viewer, post).attachments:
                continue
            if stream.tag is not None and (session.get(PostTag, (post.id, stream.tag)) is None):
                continue
            wanted.append(stream)
    if not wanted:
        return []
    view = build_view(session, viewer, post)
    if view.removed or (view.reblog is not None and view.reblog.removed):
        return []
    payload = json.dumps(entities.status(view, runtime.settings))
    name = "update" if event.kind == EventKind.POST_CREATED else "status.update"
    return [Message(stream, name, payload) for stream in wanted]


def _notification_messages(
    session: Any, runtime: Runtime, viewer: Viewer, streams: set[Stream], event: SocialEvent
) -> list[Message]:
    wanted = [s for s in streams if s.name in USER_STREAMS]
    if not wanted or event.recipient_id != viewer.user_id:
        return []
    row = session.get(Notification, event.notification_id)
    if row is None:
        return []
    if row.actor_id in viewer.hidden_author_ids and row.kind != NotificationKind.MODERATION:
        return []
    if row.post_id is not None:
        post = session.get(Post, row.post_id)
        if post is None or post.deleted_at is not None or not posts.may_view(viewer, post):
            return []
    found = notification_entities(session, runtime, viewer, [row])
    if not found:  # about a status a moderation decision removed
        return []
    payload = json.dumps(found[0])
    return [Message(stream, "notification", payload) for stream in wanted]


def render(
    runtime: Runtime, user_id: int | None, streams: set[Stream], event: SocialEvent
) -> list[Message]:
    """What a subscriber (a member, or the public) receives for an event on its streams."""
    if not streams:
        return []
    if event.kind == EventKind.POST_DELETED:
        # Only an id: clients drop the status if they have it.
        return [
            Message(s, "delete", str(event.post_id))
            for s in streams
            if s.name not in NO_STREAMS and s.name != "user:notification"
        ]
    with runtime.db.session() as session:
        viewer = load_viewer(session, user_id) if user_id is not None else ANONYMOUS
        if event.kind == EventKind.NOTIFICATION_CREATED:
            return _notification_messages(session, runtime, viewer, streams, event)
        return _post_messages(session, runtime, viewer, streams, event)


# --- authentication -----------------------------------------------------------------------


def _token_caller(runtime: Runtime, raw: str) -> Caller:
    with runtime.db.session() as session:
        token = session.scalar(select(OAuthToken).where(OAuthToken.token_hash == hash_token(raw)))
        if token is None or token.revoked_at is not None:
            raise Unauthenticated("The access token is invalid or was revoked.")
        user = session.get(User, token.user_id) if token.user_id else None
        return Caller(user=user, scopes=frozenset(token.scopes.split()), app_id=token.app_id)


def _socket_token(websocket: WebSocket) -> tuple[str | None, str | None]:
    """The token and, when it came as the WebSocket protocol, the protocol to echo."""
    query = websocket.query_params.get("access_token")
    if query:
        return query, None
    protocols = [
        p.strip()
        for p in websocket.headers.get("sec-websocket-protocol", "").split(",")
        if p.strip()
    ]
    if protocols:
        return protocols[0], protocols[0]
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None, None
    return None, None


# --- the WebSocket ------------------------------------------------------------------------


async def _deny(websocket: WebSocket, status: int, message: str) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse({"error": message}, status_code=status))
    else:
        await websocket.close(code=1008, reason=message[:120])


@router.websocket("/api/v1/streaming")
async def streaming_socket(websocket: WebSocket, runtime: Runtime = Depends(get_runtime)) -> None:
    """The multiplexed stream: send `{"type": "subscribe", "stream": "user"}` (or give
    `stream`, and `tag`, in the query string); receive `{"stream", "event", "payload"}`."""
    raw, protocol = _socket_token(websocket)
    who: Caller | None = None
    if raw is not None:
        try:
            who = await run_in_threadpool(_token_caller, runtime, raw)
        except ParvisError as exc:
            await _deny(websocket, exc.status_code, exc.message)
            return
    streams: set[Stream] = set()
    initial = websocket.query_params.get("stream")
    if initial:
        try:
            streams.add(parse_stream(initial, websocket.query_params.get("tag"), who))
        except ParvisError as exc:
            await _deny(websocket, exc.status_code, exc.message)
            return
    await websocket.accept(subprotocol=protocol)
    broker = _broker(websocket)
    subscription = broker.subscribe()
    await broker.ready()
    user_id = who.user_id if who is not None else None
    writer = asyncio.create_task(_write(websocket, runtime, subscription, user_id, streams))
    try:
        await _read(websocket, who, streams)
    except WebSocketDisconnect:
        pass
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        broker.unsubscribe(subscription)


async def _read(websocket: WebSocket, who: Caller | None, streams: set[Stream]) -> None:
    """Subscribe and unsubscribe as the client asks; errors are sent back, never fatal."""
    while True:
        text = await websocket.receive_text()
        try:
            message = json.loads(text)
            if not isinstance(message, dict):
                raise InvalidInput("Messages are JSON objects.")
            kind = message.get("type")
            stream = parse_stream(str(message.get("stream", "")), message.get("tag"), who)
            if kind == "subscribe":
                streams.add(stream)
            elif kind == "unsubscribe":
                streams.discard(stream)
            else:
                raise InvalidInput("type must be subscribe or unsubscribe.")
        except ValueError:
            await websocket.send_json({"error": "Invalid JSON", "status": 400})
        except ParvisError as exc:
            await websocket.send_json({"error": exc.message, "status": exc.status_code})


async def _write(
    websocket: WebSocket,
    runtime: Runtime,
    subscription: Subscription,
    user_id: int | None,
    streams: set[Stream],
) -> None:
    while True:
        event = await subscription.queue.get()
        if subscription.overflowed:
            await websocket.close(code=1013, reason="Too far behind; reconnect.")
            return
        for message in await run_in_threadpool(render, runtime, user_id, set(streams), event):
            await websocket.send_json(
                {"stream": message.stream.label, "event": message.event, "payload": message.payload}
            )


# --- server-sent events ---------------------------------------------------------------------


async def _sse(
    request: Request, runtime: Runtime, who: Caller | None, stream: Stream
) -> StreamingResponse:
    broker = _broker(request)
    subscription = broker.subscribe()
    await broker.ready()
    user_id = who.user_id if who is not None else None

    async def body() -> AsyncIterator[str]:
        try:
            yield ":)\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(subscription.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ":thump\n\n"
                    continue
                if subscription.overflowed:
                    return
                for message in await run_in_threadpool(render, runtime, user_id, {stream}, event):
                    yield f"event: {message.event}\ndata: {message.payload}\n\n"
        finally:
            broker.unsubscribe(subscription)

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _sse_caller(
    request: Request, runtime: Runtime, header_caller: Caller | None
) -> Caller | None:
    raw = request.query_params.get("access_token")
    if header_caller is None and raw:
        return await run_in_threadpool(_token_caller, runtime, raw)
    return header_caller


@router.get("/api/v1/streaming/health")
async def streaming_health() -> PlainTextResponse:
    """`OK` while the streaming API is up."""
    return PlainTextResponse("OK")


SSE_PATHS = {
    "/api/v1/streaming/user": "user",
    "/api/v1/streaming/user/notification": "user:notification",
    "/api/v1/streaming/public": "public",
    "/api/v1/streaming/public/local": "public:local",
    "/api/v1/streaming/public/remote": "public:remote",
    "/api/v1/streaming/hashtag": "hashtag",
    "/api/v1/streaming/hashtag/local": "hashtag:local",
}


def _sse_endpoint(name: str) -> Any:
    async def endpoint(
        request: Request,
        tag: str | None = Query(None, description="The hashtag, for hashtag streams."),
        only_media: bool = Query(False, description="Only statuses with media (public)."),
        who: Caller | None = Depends(optional_caller),
        runtime: Runtime = Depends(get_runtime),
    ) -> Response:
        caller_ = await _sse_caller(request, runtime, who)
        chosen = f"{name}:media" if only_media and name.startswith("public") else name
        return await _sse(request, runtime, caller_, parse_stream(chosen, tag, caller_))

    endpoint.__doc__ = f"The `{name}` stream as server-sent events (`event:` and `data:` lines)."
    endpoint.__name__ = f"stream_{name.replace(':', '_')}"
    return endpoint


for _path, _name in SSE_PATHS.items():
    router.add_api_route(
        _path,
        _sse_endpoint(_name),
        methods=["GET"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
