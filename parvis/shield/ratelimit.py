"""Rate limits per client address, per account and per route class, with the `limits` library.

The sliding-window-counter strategy is used: two counters per key (this window and the last),
so memory stays constant however many requests an address sends, unlike the moving window's
timestamp list. Counters live in process memory by default and in Redis when `redis_url` is
set, so every worker of an instance counts the same requests (all but the forged-credential
budget, which guards each process's own database lookups and stays in its memory). Redis
trouble never takes the site down: the check then lets the request through and says so in the
log (fail open). When a flood queues more than `ADDRESS_CHECKS_IN_FLIGHT` address-counted
checks on Redis, further ones are shed as overload so members' checks never wait behind them;
live-room joins past `LIVE_CHECKS_IN_FLIGHT` are counted in process memory instead.

Which counter a request hits: anonymous requests count against their address; a signed-in
member's against their account (members behind one NAT must not share a budget, as in
Mastodon), except for log-in, sign-up and password reset, which are always per address.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import limits
import limits.aio.storage
import limits.aio.strategies
import limits.storage
import limits.strategies
import redis.asyncio
from limits import RateLimitItem

from parvis.config import Settings
from parvis.shield.classes import ANONYMOUS_BY_NATURE, UNLIMITED, RouteClass
from parvis.shield.identity import Identity

log = logging.getLogger("parvis.shield")
# Credentials that turned out not to exist, per address: past this budget, unknown cookies and
# tokens from the address are taken as anonymous without a database lookup, so inventing new
# ones costs the server nothing. Valid ones never spend it: members behind one NAT or proxy are
# all recognised however many they are (a valid answer is cached for 30 s anyway).
CREDENTIAL_LOOKUPS = limits.parse("120/minute")
# Per process. A live-room join storm checks a thousand handshakes a second while the event
# loop is busy; 32 connections ran dry (the check then lets requests through, unlimited).
REDIS_CONNECTIONS = 128
# Per process: address-counted checks (anonymous requests, log-ins) waiting on Redis at once.
# A flood queues thousands of them for the pool, and members' checks used to wait in the same
# queue (bench/flood.py, two workers: member p99 785 ms). Past this bound an address-counted
# request is shed as overload before it costs a round trip, so members always find connections.
ADDRESS_CHECKS_IN_FLIGHT = REDIS_CONNECTIONS // 2
# Per process: anonymous live-room joins waiting on Redis at once. A join storm with the event
# loop busy kept the whole pool waiting (bench/live.py, two workers: "No connection available"
# after 0.5 s, the join held that long, then let through uncounted). A join is never shed:
# past this bound it is counted in this process's memory instead, against the same limits.
LIVE_CHECKS_IN_FLIGHT = REDIS_CONNECTIONS // 4
DENIED_CACHE_SIZE = 100_000

# Which settings hold each class's limits: (per address, per account). The challenge's own
# endpoints count as reads.
_SETTINGS = {
    RouteClass.LOGIN: ("shield_login_per_address", None),
    RouteClass.SIGNUP: ("shield_signup_per_address", None),
    RouteClass.PASSWORD_RESET: ("shield_password_reset_per_address", None),
    RouteClass.POSTING: ("shield_reads_per_address", "shield_posting_per_account"),
    RouteClass.WRITES: ("shield_reads_per_address", "shield_writes_per_account"),
    RouteClass.SEARCH: ("shield_search_per_address", "shield_search_per_account"),
    RouteClass.NOTICES: ("shield_notices_per_address", "shield_notices_per_account"),
    RouteClass.READS: ("shield_reads_per_address", "shield_reads_per_account"),
    RouteClass.CHALLENGE: ("shield_reads_per_address", "shield_reads_per_account"),
    RouteClass.LIVE: ("shield_live_per_address", "shield_live_per_account"),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one rate-limit check, with what the response headers report."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # seconds since the epoch when the reported window frees up
    scope: str  # "address" or "account": which counter was used

    @property
    def retry_after(self) -> int:
        """Whole seconds until another request may succeed (at least 1)."""
        return max(1, int(self.reset_at - time.time() + 0.999))

    def headers(self) -> list[tuple[bytes, bytes]]:
        """Mastodon's rate-limit headers (the reset as an ISO 8601 UTC time, as Mastodon
        writes it), plus Retry-After when refused."""
        headers = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(max(0, self.remaining)).encode()),
            (b"x-ratelimit-reset", _reset_text(self.reset_at)),
        ]
        if not self.allowed:
            headers.append((b"retry-after", str(self.retry_after).encode()))
        return headers


@functools.lru_cache(maxsize=1024)
def _reset_text(reset_at: float) -> bytes:
    """A window's end as Mastodon writes it (shared by every request in that window)."""
    return datetime.fromtimestamp(reset_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()


def parse_limits(settings: Settings) -> dict[tuple[RouteClass, str], list[RateLimitItem]]:
    """Every class's limits from the settings; a malformed one names its setting."""
    table: dict[tuple[RouteClass, str], list[RateLimitItem]] = {}
    for route_class, names in _SETTINGS.items():
        for scope, name in zip(("address", "account"), names, strict=True):
            value = str(getattr(settings, name)) if name else ""
            try:
                items = limits.parse_many(value) if value.strip() else []
            except ValueError as exc:
                raise ValueError(
                    f"Setting {name.upper() if name else ''}: {value!r} is not a rate limit "
                    "such as '25/5minutes' or '30/minute;300/hour'."
                ) from exc
            table[(route_class, scope)] = items
    return table


class InlineExpiryMemoryStorage(limits.storage.MemoryStorage):
    """`limits`' memory storage, expiring old keys in line at most once a second.

    The library's version starts a `threading.Timer` thread whenever the last one finished,
    i.e. every 10 ms under load: profiling a flood showed thread start-up as a third of the cost
    of refusing a request. Reads already ignore expired keys, so expiring in line, rarely, only
    bounds memory. (Overrides the parent's name-mangled private hook: pinned by
    tests/shield/test_ratelimit.py::test_memory_counters_expire_without_threads.)
    """

    def __init__(self) -> None:
        super().__init__()
        self.timer.cancel()
        self._next_expiry = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - the parent's mangled name
        now = time.monotonic()
        if now >= self._next_expiry:
            self._next_expiry = now + 1.0
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


class CountersBusy(Exception):
    """Too many address-counted checks are already waiting on the shared counters: the caller
    sheds the request as overload (a flood is under way) instead of queueing it."""


class RateLimits:
    """Checks and counts requests against the configured limits."""

    def __init__(self, settings: Settings) -> None:
        self.table = parse_limits(settings)
        self.prefix = settings.shield_redis_prefix
        self._sync: limits.strategies.SlidingWindowCounterRateLimiter | None = None
        self._async: limits.aio.strategies.SlidingWindowCounterRateLimiter | None = None
        self._pool: redis.asyncio.BlockingConnectionPool | None = None
        if settings.redis_url:
            # A bounded pool that waits briefly for a free connection: redis-py's default pool
            # raises "Too many connections" under a burst (seen in bench/flood.py), and an
            # unbounded one would open a connection per request in flight.
            pool = self._pool = redis.asyncio.BlockingConnectionPool.from_url(
                settings.redis_url, max_connections=REDIS_CONNECTIONS, timeout=0.5
            )
            storage = limits.aio.storage.RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix=self.prefix,
                connection_pool=pool,  # type: ignore[arg-type] # options are passed through
            )
            self._async = limits.aio.strategies.SlidingWindowCounterRateLimiter(storage)
        else:
            self._sync = limits.strategies.SlidingWindowCounterRateLimiter(
                InlineExpiryMemoryStorage()
            )
        self._last_error_logged = 0.0
        self._denied: dict[tuple[str, str], Verdict] = {}
        self._address_checks = 0
        self._live_checks = 0
        # Where joins are counted while too many already wait on Redis (see LIVE_CHECKS_...).
        self._spill = limits.strategies.SlidingWindowCounterRateLimiter(InlineExpiryMemoryStorage())
        # The forged-credential budget only guards this process's database lookups, so it is
        # kept per process, in memory even with Redis: no round trip for it in a flood.
        self._lookups = limits.strategies.SlidingWindowCounterRateLimiter(
            InlineExpiryMemoryStorage()
        )

    async def close(self) -> None:
        """Close the Redis connections (application shutdown, on the loop that served: left
        open, they outlive that loop and are only reclaimed, with warnings, by the collector)."""
        if self._pool is not None:
            await self._pool.disconnect()

    @property
    def shared(self) -> bool:
        """True when the counters are in Redis (shared by every worker)."""
        return self._async is not None

    def applicable(
        self, route_class: RouteClass, address_key: str, identity: Identity
    ) -> tuple[list[RateLimitItem], str, str]:
        """The limits that apply, the counter key and its scope ("address" or "account")."""
        if route_class in UNLIMITED:
            return [], "", ""
        if identity.account_key is not None and route_class not in ANONYMOUS_BY_NATURE:
            items = self.table.get((route_class, "account"), [])
            return items, f"acct:{identity.account_key}", "account"
        return self.table.get((route_class, "address"), []), f"addr:{address_key}", "address"

    async def check(
        self,
        route_class: RouteClass,
        address_key: str,
        identity: Identity,
        *,
        headers: bool = True,
    ) -> Verdict | None:
        """Count this request; None when no limit applies (or the counter store is down).
        Without `headers` (a WebSocket handshake, whose success carries none), an allowed
        request costs one counter operation instead of two."""
        items, who, scope = self.applicable(route_class, address_key, identity)
        if not items:
            return None
        # A counter already over its limit stays refused until its window frees up: answer
        # from memory without touching the store (a flood keeps hitting exhausted counters).
        denied = self._denied.get((route_class.value, who))
        if denied is not None and denied.reset_at > time.time():
            return denied
        live = route_class is RouteClass.LIVE
        bounded = self.shared and scope == "address"
        if bounded and live and self._live_checks >= LIVE_CHECKS_IN_FLIGHT:
            return await self._hit(items, route_class.value, who, scope, headers, self._spill)
        if bounded and not live and self._address_checks >= ADDRESS_CHECKS_IN_FLIGHT:
            raise CountersBusy
        if bounded:
            self._adjust_in_flight(live, 1)
        try:
            return await self._hit(items, route_class.value, who, scope, headers, self._sync)
        except Exception:  # counters unavailable: serve rather than refuse everyone
            now = time.monotonic()
            if now - self._last_error_logged > 60:
                self._last_error_logged = now
                log.exception("rate-limit counters unavailable; requests are let through")
            return None
        finally:
            if bounded:
                self._adjust_in_flight(live, -1)

    def _adjust_in_flight(self, live: bool, change: int) -> None:
        if live:
            self._live_checks += change
        else:
            self._address_checks += change

    def lookup_allowed(self, address_key: str) -> bool:
        """Whether this address may have one more unknown cookie or token looked up: true
        until it has sent `CREDENTIAL_LOOKUPS` credentials that did not exist."""
        return self._lookups.test(CREDENTIAL_LOOKUPS, "lookup", address_key)

    def note_failed_lookup(self, address_key: str) -> None:
        """Count a cookie or token from this address that did not exist."""
        self._lookups.hit(CREDENTIAL_LOOKUPS, "lookup", address_key)

    async def _hit(
        self,
        items: list[RateLimitItem],
        kind: str,
        who: str,
        scope: str,
        headers: bool,
        local: limits.strategies.SlidingWindowCounterRateLimiter | None,
    ) -> Verdict:
        """Count the request against each limit, in process memory when `local` is given and
        in Redis otherwise."""
        reported: Verdict | None = None
        for item in items:
            if local is not None:
                allowed = local.hit(item, kind, who)
            else:
                assert self._async is not None
                allowed = await self._async.hit(item, kind, who)
            if allowed and not headers:
                reported = Verdict(True, item.amount, item.amount, time.time(), scope)
                continue
            if local is not None:
                stats = local.get_window_stats(item, kind, who)
            else:
                assert self._async is not None
                stats = await self._async.get_window_stats(item, kind, who)
            verdict = Verdict(allowed, item.amount, stats.remaining, stats.reset_time, scope)
            if not allowed:
                if len(self._denied) > DENIED_CACHE_SIZE:
                    self._denied.clear()
                self._denied[(kind, who)] = verdict
                return verdict
            if reported is None or verdict.remaining < reported.remaining:
                reported = verdict
        assert reported is not None
        return reported

    async def reset(self) -> None:
        """Forget every counter (tests and the admin page's reset)."""
        self._denied.clear()
        self._lookups.storage.reset()
        self._spill.storage.reset()
        if self._sync is not None:
            self._sync.storage.reset()
        elif self._async is not None:
            await self._async.storage.reset()
