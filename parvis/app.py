"""Builds the ASGI application: routers, middleware, error handling and start-up."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from parvis import __version__
from parvis.background import Background
from parvis.config import Settings, load_settings
from parvis.errors import ParvisError, RateLimited
from parvis.live import tasks as live_tasks
from parvis.mail import outbox
from parvis.moderation import expiry, linkcheck, publication, statement_outbox
from parvis.routing import skip_routers_by_prefix
from parvis.runtime import Runtime
from parvis.shield.body_limit import BodySizeLimit, per_route_class
from parvis.storage import migrate
from parvis.web import live as live_pages

log = logging.getLogger("parvis")

JSON_PREFIXES = ("/api/", "/oauth/", "/.well-known/", "/nodeinfo/", "/health")
UPLOAD_PATHS = ("/api/v1/media", "/api/v2/media", "/compose", "/settings/profile", "/articles/new")


def wants_json(request: Request) -> bool:
    """API clients get JSON errors; browsers get an HTML page."""
    if request.url.path.startswith(JSON_PREFIXES):
        return True
    return "application/json" in request.headers.get("accept", "") and "text/html" not in (
        request.headers.get("accept", "")
    )


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ".".join(str(item) for item in error.get("loc", ()) if item != "body")
        parts.append(f"{location}: {error.get('msg', 'invalid')}" if location else error["msg"])
    return "Invalid request: " + "; ".join(parts) if parts else "Invalid request."


def error_response(request: Request, status: int, message: str, **extra: str) -> Response:
    """The error response for this request: `{"error": ...}` JSON or the HTML error page."""
    headers = {key.replace("_", "-").title(): value for key, value in extra.items()}
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    renderer = getattr(request.app.state, "html_error", None)
    if renderer is not None:
        response: Response = renderer(request, status, message)
        response.headers.update(headers)
        return response
    return Response(message, status_code=status, media_type="text/plain", headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ParvisError)
    async def parvis_error(request: Request, exc: ParvisError) -> Response:
        extra = {}
        if isinstance(exc, RateLimited):
            extra["retry_after"] = str(exc.retry_after)
        return error_response(request, exc.status_code, exc.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "Not found.", 405: "Method not allowed for this address."}
        message = (
            exc.detail
            if isinstance(exc.detail, str) and exc.status_code not in messages
            else (messages.get(exc.status_code, str(exc.detail)))
        )
        return error_response(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            request, 500, "Something went wrong on our side. The error was logged; try again."
        )


class ParvisApp(FastAPI):
    """FastAPI, with live rooms' socket handshakes served ahead of the framework.

    A join storm brings thousands of handshakes to one path; behind the shield (rate limits,
    overload), they go straight to the room socket (`web.live.serve_room_socket`) instead of
    through FastAPI's telemetry wrapper, Starlette's middleware chain and the route walk: none
    of them does anything for a WebSocket, and together they were a sixth of a join's server
    CPU. Everything else goes the usual way."""

    room_socket: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.room_socket is not None:
            room_id = live_pages.socket_room_id(scope["path"])
            if room_id is not None:
                scope["app"] = self  # what Starlette sets: `websocket.app.state`
                scope["path_params"] = {"room_id": room_id}
                await self.room_socket(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = True) -> ParvisApp:
    """The Parvis ASGI application for these settings (read from the environment if omitted)."""
    settings = settings or load_settings()
    runtime = Runtime.build(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if migrate_on_start:
            migrate.upgrade(runtime.db.engine)
            migrate.optimize(runtime.db.engine)
            with runtime.db.session() as session:
                publication.ensure_default(session)
        # Everything built so far (modules, mappers, the rulebook) lives as long as the process:
        # freezing it keeps the garbage collector from re-scanning it in request-time pauses,
        # which were most of the slowest 1 % of requests.
        gc.freeze()
        loops = Background()
        # E-mails queued by committed transactions go out (mail.outbox).
        loops.start("mail", partial(outbox.deliver_pending, runtime.db, settings), 0.5)
        # Statements of reasons of decisions taken inline (screening) reach their members as
        # soon as the decision commits (moderation.statement_outbox).
        loops.start(
            statement_outbox.LOOP_NAME,
            partial(statement_outbox.deliver_pending, runtime.db, runtime.services),
            0.5,
        )
        stop_waking = statement_outbox.on_queued(
            runtime.db.engine, partial(loops.wake, statement_outbox.LOOP_NAME)
        )
        # Temporary restrictions end by themselves, each end recorded as a decision.
        loops.start("expiry", partial(expiry.expire, runtime.db, runtime.services), 60.0)
        # Followers are reminded when a scheduled live room's start comes.
        loops.start(
            "live reminders",
            partial(live_tasks.send_due, runtime),
            settings.live_reminder_interval_seconds,
        )
        if settings.link_check_enabled:

            async def check_links() -> int:
                return await linkcheck.check_pending(runtime.db, runtime.services)

            loops.start("link checker", check_links, settings.link_check_interval_seconds)
        yield
        stop_waking()
        await loops.stop()
        await _app.state.stream_broker.close()
        await _app.state.shield.limits.close()
        runtime.db.dispose()

    app = ParvisApp(
        title="Parvis API",
        version=__version__,
        description="Mastodon-compatible client API plus Parvis's own endpoints under /api/parvis.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.runtime = runtime
    _install_error_handlers(app)

    from parvis.api.cors import ApiCors
    from parvis.api.express import ExpressLane
    from parvis.api.routes import api_routers
    from parvis.api.streaming import install_streaming
    from parvis.audit import api as audit_api
    from parvis.audit import pages as audit_pages
    from parvis.web.routes import mount_web

    for router in api_routers():
        app.include_router(router)
    install_streaming(app, runtime)  # Mastodon streaming API: WebSocket + SSE, its broker
    app.include_router(audit_api.router)
    app.include_router(audit_pages.router, include_in_schema=False)
    # Added first, so innermost: inside the shield, the body limit and the security headers.
    app.add_middleware(ExpressLane)
    mount_web(app)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    def limit_for(path: str) -> int:
        if path.startswith(UPLOAD_PATHS):
            return settings.max_document_bytes + 64 * 1024
        return settings.max_form_bytes

    app.add_middleware(BodySizeLimit, limit_for=per_route_class(settings, limit_for))
    from parvis.shield.middleware import Shield, ShieldState
    from parvis.web import shield as shield_pages

    app.state.shield = ShieldState.build(runtime)  # in front of everything but the transport
    app.include_router(shield_pages.router, include_in_schema=False)
    app.add_middleware(Shield, state=app.state.shield)
    app.room_socket = Shield(live_pages.serve_room_socket, state=app.state.shield)
    app.add_middleware(ApiCors)  # outermost: the shield's refusals carry CORS headers too
    skip_routers_by_prefix(app)
    return app
