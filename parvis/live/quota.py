"""Per-account limits on what members send over a room's WebSocket: chat lines and hand
toggles.

Why: these arrive as messages on an already open socket, so the shield's HTTP rate limits
(which see only the handshake) never count them, and each one writes to the database and is
broadcast to the whole room. A member may chat `CHAT_LIMITS` and raise or lower a hand
`HAND_LIMITS`; past that the command is refused with an `error` event saying how long to wait
(reactions have their own per-second cap in `connection`, and are not stored).

The counters are per account, not per socket, so opening more sockets does not buy more: in
process memory, or in Redis when `redis_url` is set (shared by every worker). Like the
shield, the `limits` library's sliding-window counters are used, and Redis trouble lets the
command through rather than silencing everyone (fail open, logged once a minute).
"""

from __future__ import annotations

import logging
import math
import time

import limits
import limits.aio.storage
import limits.aio.strategies
import limits.strategies
from limits import RateLimitItem

from parvis.config import Settings
from parvis.live import metrics
from parvis.shield.ratelimit import InlineExpiryMemoryStorage

log = logging.getLogger("parvis.live")
CHAT_LIMITS = "5/10seconds;20/minute"
HAND_LIMITS = "6/minute"
WHAT = {"chat": "chat messages", "hand": "raised or lowered hands"}


class Quota:
    """Checks and counts members' chat lines and hand toggles."""

    def __init__(self, settings: Settings) -> None:
        self.items: dict[str, list[RateLimitItem]] = {
            "chat": limits.parse_many(CHAT_LIMITS),
            "hand": limits.parse_many(HAND_LIMITS),
        }
        self._sync: limits.strategies.SlidingWindowCounterRateLimiter | None = None
        self._async: limits.aio.strategies.SlidingWindowCounterRateLimiter | None = None
        if settings.redis_url:
            storage = limits.aio.storage.RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix=f"{settings.live_redis_prefix}live-quota",
            )
            self._async = limits.aio.strategies.SlidingWindowCounterRateLimiter(storage)
        else:
            self._sync = limits.strategies.SlidingWindowCounterRateLimiter(
                InlineExpiryMemoryStorage()
            )
        self._last_error_logged = 0.0

    async def wait_needed(self, action: str, user_id: int) -> int | None:
        """Count one `action` ("chat" or "hand") by this account. None when allowed; when
        refused (and not counted), the whole seconds to wait before the next one."""
        items = self.items[action]
        key = str(user_id)
        try:
            for item in items:
                if not await self._test(item, action, key):
                    reset = await self._reset_time(item, action, key)
                    metrics.REFUSED_ACTIONS.labels(action).inc()
                    return max(1, math.ceil(reset - time.time()))
            for item in items:
                await self._hit(item, action, key)
        except Exception:  # counters unavailable: let members talk
            now = time.monotonic()
            if now - self._last_error_logged > 60:
                self._last_error_logged = now
                log.exception("live: chat and hand counters unavailable; commands let through")
        return None

    async def _test(self, item: RateLimitItem, action: str, key: str) -> bool:
        if self._sync is not None:
            return self._sync.test(item, action, key)
        assert self._async is not None
        return await self._async.test(item, action, key)

    async def _hit(self, item: RateLimitItem, action: str, key: str) -> None:
        if self._sync is not None:
            self._sync.hit(item, action, key)
        else:
            assert self._async is not None
            await self._async.hit(item, action, key)

    async def _reset_time(self, item: RateLimitItem, action: str, key: str) -> float:
        if self._sync is not None:
            return self._sync.get_window_stats(item, action, key).reset_time
        assert self._async is not None
        return (await self._async.get_window_stats(item, action, key)).reset_time

    @staticmethod
    def refusal(action: str, wait_seconds: int) -> dict[str, object]:
        """The `error` event telling the member what to do."""
        readable = ", ".join(
            f"{item.amount} per {item.GRANULARITY.name}"
            if item.multiples == 1
            else f"{item.amount} per {item.multiples} {item.GRANULARITY.name}s"
            for item in limits.parse_many(CHAT_LIMITS if action == "chat" else HAND_LIMITS)
        )
        return {
            "type": "error",
            "code": "rate_limited",
            "action": action,
            "retry_after_s": wait_seconds,
            "message": f"Too many {WHAT[action]}: at most {readable}. "
            f"Wait {wait_seconds} s before sending another.",
        }
