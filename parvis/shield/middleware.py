"""The shield in front of the application, as plain ASGI middleware (HTTP and WebSocket alike).

For every request, in this order, cheapest first:

1. classify it (`classes`), and answer `/healthz` at once;
2. find the client address (`client`) and the signed-in account (`identity`, cached);
3. serve `/metrics` to those allowed (loopback, admins, the metrics token);
4. count it against its rate limits (`ratelimit`): 429 with `Retry-After` when over;
5. under attack, challenge anonymous page views without a pass (`challenge`);
6. admit it under the adaptive concurrency limit by priority (`overload`): 503 when shed
   (anonymous work is shed before step 4 already while the event loop is congested);
7. run the application with a body-read timeout (408), adding the rate-limit headers to the
   response, then record status and latency (`metrics`).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parvis.config import Settings
from parvis.runtime import Runtime
from parvis.shield import metrics, refusals
from parvis.shield.challenge import (
    PASS_COOKIE,
    VERIFY_PATH,
    AttackMode,
    Puzzles,
    wants_challenge,
)
from parvis.shield.classes import (
    ANONYMOUS_BY_NATURE,
    LONG_LIVED,
    Priority,
    RouteClass,
    classify,
    priority,
)
from parvis.shield.client import AddressResolver, ClientAddress
from parvis.shield.identity import ANONYMOUS, Identity, IdentityCache, credentials
from parvis.shield.overload import Gate, OverloadSettings
from parvis.shield.ratelimit import CountersBusy, RateLimits, Verdict

SCOPE_CLIENT = "parvis.client"
CHALLENGED_CLASSES = frozenset({RouteClass.READS, RouteClass.SEARCH})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OVERLOAD_RETRY_SECONDS = 2
BUSY = "The server is busy right now; please try again in a few seconds."
_BUSY_HEADERS = [(b"retry-after", str(OVERLOAD_RETRY_SECONDS).encode())]


def overload_settings(settings: Settings) -> OverloadSettings:
    """Overload control's knobs from the instance settings."""
    return OverloadSettings(
        initial=settings.shield_concurrency_initial,
        minimum=settings.shield_concurrency_min,
        maximum=max(settings.shield_concurrency_max, settings.shield_concurrency_min),
        latency_target=settings.shield_latency_target_ms / 1000,
        lag_target=settings.shield_loop_lag_target_ms / 1000,
        low_share=settings.shield_low_priority_share,
        queue_wait=settings.shield_queue_wait_ms / 1000,
        queue_max=settings.shield_queue_max,
    )


# Log-ins, sign-ups and resets that may wait for a password-hashing slot, per slot.
PASSWORD_WAITERS = 4


@dataclass
class ShieldState:
    """The shield's parts for one application (the admin page reads them too)."""

    settings: Settings
    addresses: AddressResolver
    identities: IdentityCache
    limits: RateLimits
    mode: AttackMode
    puzzles: Puzzles
    gate: Gate
    history: metrics.History = field(default_factory=metrics.History)
    password_work: int = 0  # log-ins, sign-ups and resets running now (a bulkhead)
    password_waiting: int = 0  # and those waiting briefly for one of them to finish
    _challenge_page: bytes = b""

    @classmethod
    def build(cls, runtime: Runtime) -> ShieldState:
        """Everything the shield needs, from the runtime's settings and database."""
        settings = runtime.settings
        mode = AttackMode(settings)
        return cls(
            settings=settings,
            addresses=AddressResolver(
                settings.shield_trusted_proxies,
                settings.shield_ipv4_prefix,
                settings.shield_ipv6_prefix,
            ),
            identities=IdentityCache(runtime),
            limits=RateLimits(settings),
            mode=mode,
            puzzles=Puzzles(settings),
            gate=Gate(overload_settings(settings), on_shed=mode.note_shed),
        )

    def challenge_page(self, puzzle: str, next_path: str) -> bytes:
        """The challenge page for one puzzle (the template is rendered once per process)."""
        if not self._challenge_page:
            from parvis.web.templating import templates

            self._challenge_page = (
                templates.env.get_template("shield/challenge.html")
                .render(
                    settings=self.settings,
                    page=None,
                    puzzle="__PUZZLE__",
                    next="__NEXT__",
                    bits=self.settings.shield_challenge_bits,
                )
                .encode()
            )
        return self._challenge_page.replace(b"__PUZZLE__", puzzle.encode()).replace(
            b"__NEXT__", quote(next_path, safe="/?=&").encode()
        )


class Shield:
    """Rate limits, overload shedding, the challenge and metrics in front of `app`."""

    def __init__(self, app: ASGIApp, state: ShieldState) -> None:
        self.app = app
        self.state = state
        self.enabled = state.settings.shield_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or not self.enabled:
            await self.app(scope, receive, send)
            return
        state = self.state
        path: str = scope["path"]
        method: str = scope.get("method", "GET")
        route_class = classify(method, path, websocket=kind == "websocket")
        if path == "/healthz":
            body = orjson.dumps({"status": "ok"})
            await refusals.respond(send, 200, body, b"application/json")
            return

        client = state.addresses.resolve(scope)
        scope[SCOPE_CLIENT] = client
        state.history.maybe_sample(
            state.gate.limit.value, state.gate.inflight, state.gate.probe.lag
        )
        creds = credentials(scope)
        identity = ANONYMOUS
        if creds.present:
            known = state.identities.cached(creds)
            # Unknown credentials cost a database lookup: each address gets a budget of ones
            # that do not exist, so inventing forged cookies or tokens cannot buy unlimited
            # queries, while any number of real members behind one address are recognised.
            if known is None and state.limits.lookup_allowed(client.key):
                known = await state.identities.resolve(creds)
                if known.account_key is None:
                    state.limits.note_failed_lookup(client.key)
            identity = known or ANONYMOUS

        if route_class is RouteClass.METRICS:
            await self._metrics(scope, send, client, identity)
            return

        level = priority(route_class, signed_in=identity.signed_in)
        if level is Priority.LOW and state.gate.lagging and route_class not in LONG_LIVED:
            # Congested: the lowest class is refused before anything else costs (counters
            # included: with Redis they are a network round trip each).
            state.gate.shed()
            await self._refused(scope, send, route_class, "overload", 503, BUSY, _BUSY_HEADERS)
            return

        # Under attack, an anonymous page view without a pass gets the challenge before any
        # counter is touched: the page is made in memory, while a counter is a Redis round
        # trip per request when workers share them (two workers, flood: 0.8 ms of CPU per
        # hostile request against 0.3 ms for one).
        if (
            kind == "http"
            and route_class in CHALLENGED_CLASSES
            and identity.account_key is None
            and wants_challenge(method, path)
            and state.mode.active
            and not state.puzzles.has_pass(_header(scope, b"cookie"), client.key)
        ):
            await self._challenge(scope, send, client, route_class)
            return

        try:
            verdict = await state.limits.check(
                route_class, client.key, identity, headers=kind == "http"
            )
        except CountersBusy:
            state.gate.shed()
            await self._refused(scope, send, route_class, "overload", 503, BUSY, _BUSY_HEADERS)
            return
        if verdict is not None and not verdict.allowed:
            await self._refused(
                scope,
                send,
                route_class,
                "rate_limit",
                429,
                _limited_message(verdict),
                verdict.headers(),
            )
            return
        # A WebSocket that is let through gets no rate-limit headers (nothing reads them on
        # a handshake), and a join storm is thousands of handshakes.
        limit_headers = verdict.headers() if verdict is not None and kind == "http" else []

        if route_class is RouteClass.CHALLENGE and path == VERIFY_PATH:
            await self._verify(scope, send, client)
            return
        holds_slot = route_class not in LONG_LIVED and level is not Priority.EXEMPT
        password_work = route_class in ANONYMOUS_BY_NATURE and method not in ("GET", "HEAD")
        if password_work and not await self._password_slot():
            state.gate.shed()
            admitted = False
            password_work = False  # no slot taken, none to give back
        elif holds_slot:
            admitted = await state.gate.acquire(level)
        else:
            state.gate.probe.ensure_running()
            admitted = state.gate.admit_now(level)
            if not admitted:
                state.gate.shed()
        if not admitted:
            if password_work:
                state.password_work -= 1
            await self._refused(
                scope,
                send,
                route_class,
                "overload",
                503,
                BUSY,
                [*limit_headers, *_BUSY_HEADERS],
            )
            return

        if kind == "websocket":
            await self.app(scope, receive, send)
            metrics.REQUESTS.labels(route_class.value, "101").inc()
            return
        try:
            await self._serve(scope, receive, send, route_class, method, limit_headers, holds_slot)
        finally:
            if password_work:
                state.password_work -= 1

    async def _password_slot(self) -> bool:
        """Take one of the `shield_password_work_concurrency` password-hashing slots, waiting
        up to `shield_queue_wait_ms` for one (two members logging in at the same moment both
        get in), with at most `PASSWORD_WAITERS` per slot waiting: past that, or after the
        wait, the caller refuses with 503 (a log-in flood queues nothing).

        Polls rather than waiting on an asyncio primitive: one application may be served
        from several event loops (tests serve one app from uvicorn and a TestClient at once),
        and a loop-bound Condition would fail there; a few waiters polling every 5 ms cost
        nothing."""
        state = self.state
        limit = state.settings.shield_password_work_concurrency
        if state.password_work < limit:
            state.password_work += 1
            return True
        if state.password_waiting >= limit * PASSWORD_WAITERS:
            return False
        state.password_waiting += 1
        try:
            deadline = time.monotonic() + state.settings.shield_queue_wait_ms / 1000
            while time.monotonic() < deadline:
                await asyncio.sleep(0.005)
                if state.password_work < limit:
                    state.password_work += 1
                    return True
            return False
        finally:
            state.password_waiting -= 1

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route_class: RouteClass,
        method: str,
        limit_headers: list[tuple[bytes, bytes]],
        holds_slot: bool,
    ) -> None:
        status = 500
        timed_out = False
        body_done = method not in BODY_METHODS
        timeout = self.state.settings.shield_body_timeout_seconds

        async def timed_receive() -> Message:
            nonlocal body_done, timed_out
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout(timeout):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                raise HTTPException(
                    408, f"The request body did not arrive within {timeout:g} seconds."
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if limit_headers:
                    message["headers"] = [*message.get("headers", ()), *limit_headers]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, timed_receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            if holds_slot:
                self.state.gate.release(elapsed if route_class is not RouteClass.LIVE else None)
            metrics.REQUESTS.labels(route_class.value, str(status)).inc()
            metrics.LATENCY.labels(route_class.value).observe(elapsed)
            if timed_out:
                metrics.REFUSED.labels("body_timeout", route_class.value).inc()

    async def _refused(
        self,
        scope: Scope,
        send: Send,
        route_class: RouteClass,
        reason: str,
        status: int,
        message: str,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        metrics.REFUSED.labels(reason, route_class.value).inc()
        metrics.REQUESTS.labels(route_class.value, str(status)).inc()
        await refusals.refuse(scope, send, status, message, headers)

    async def _metrics(
        self, scope: Scope, send: Send, client: ClientAddress, identity: Identity
    ) -> None:
        token = self.state.settings.shield_metrics_token.get_secret_value()
        presented = (_header(scope, b"authorization") or "").removeprefix("Bearer ").strip()
        allowed = (
            client.is_loopback
            or identity.is_admin
            or (bool(token) and hmac.compare_digest(presented.encode(), token.encode()))
        )
        if not allowed:
            await refusals.refuse(
                scope,
                send,
                403,
                "Metrics are served to loopback addresses, admins, and holders of the "
                "metrics token (PARVIS_SHIELD_METRICS_TOKEN).",
            )
            return
        gate = self.state.gate
        metrics.CONCURRENCY_LIMIT.set(gate.limit.value)
        metrics.INFLIGHT.set(gate.inflight)
        metrics.LOOP_LAG.set(gate.probe.lag)
        metrics.UNDER_ATTACK.set(1 if self.state.mode.active else 0)
        body, content_type = metrics.exposition()
        metrics.REQUESTS.labels(RouteClass.METRICS.value, "200").inc()
        await refusals.respond(send, 200, body, content_type.encode())

    async def _challenge(
        self, scope: Scope, send: Send, client: ClientAddress, route_class: RouteClass
    ) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        next_path = scope["path"] + (f"?{query}" if query else "")
        page = self.state.challenge_page(self.state.puzzles.issue(client.key), next_path)
        metrics.REFUSED.labels("challenge", route_class.value).inc()
        metrics.REQUESTS.labels(route_class.value, "403").inc()
        await refusals.respond(send, 403, page, b"text/html; charset=utf-8")

    async def _verify(self, scope: Scope, send: Send, client: ClientAddress) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        puzzle = query.get("puzzle", [""])[0]
        nonce = query.get("nonce", [""])[0]
        next_path = query.get("next", ["/"])[0]
        if not next_path.startswith("/") or next_path.startswith("//"):
            next_path = "/"
        if not self.state.puzzles.solve_ok(puzzle, nonce, client.key):
            metrics.REQUESTS.labels(RouteClass.CHALLENGE.value, "403").inc()
            await refusals.respond(
                send,
                403,
                refusals.html_page(
                    403,
                    "That answer did not check out (it may have expired). Reload the page to "
                    "get a new puzzle.",
                    f'<p><a href="{quote(next_path, safe="/?=&")}">Try again</a></p>',
                ),
                b"text/html; charset=utf-8",
            )
            return
        settings = self.state.settings
        cookie = (
            f"{PASS_COOKIE}={self.state.puzzles.new_pass(client.key)}; Path=/; "
            f"Max-Age={int(settings.shield_challenge_pass_hours * 3600)}; HttpOnly; SameSite=Lax"
            + ("; Secure" if settings.secure_cookies else "")
        )
        metrics.REQUESTS.labels(RouteClass.CHALLENGE.value, "303").inc()
        await refusals.respond(
            send,
            303,
            b"",
            b"text/plain",
            [
                (b"location", quote(next_path, safe="/?=&%").encode()),
                (b"set-cookie", cookie.encode()),
            ],
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _limited_message(verdict: Verdict) -> str:
    who = "your account" if verdict.scope == "account" else "your address"
    return (
        f"Too many requests of this kind from {who}: the limit is {verdict.limit}. "
        f"Try again in {verdict.retry_after} seconds."
    )
