"""With Redis configured, every worker counts the same requests."""

from __future__ import annotations

import uuid

import pytest
import redis

from parvis.runtime import Runtime
from parvis.shield import ratelimit
from tests.conftest import MakeUser
from tests.shield.conftest import ClientFor, MakeApp, bearer_for, second_handshake_refusal

REDIS_URL = "redis://127.0.0.1:6379/3"


@pytest.fixture
def redis_prefix() -> str:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return f"parvis-test-shield-{uuid.uuid4().hex[:8]}"


def test_two_app_instances_share_counters(
    make_app: MakeApp, client_for: ClientFor, redis_prefix: str
) -> None:
    overrides = {
        "redis_url": REDIS_URL,
        "shield_redis_prefix": redis_prefix,
        "shield_reads_per_address": "3/hour",
    }
    one, two = make_app(**overrides), make_app(**overrides)
    assert one.state.shield.limits.shared
    first, second = client_for(one, "192.0.2.5"), client_for(two, "192.0.2.5")
    assert first.get("/api/v1/instance").headers["x-ratelimit-remaining"] == "2"
    assert second.get("/api/v1/instance").headers["x-ratelimit-remaining"] == "1"
    assert first.get("/api/v1/instance").status_code == 200
    assert second.get("/api/v1/instance").status_code == 429
    assert first.get("/api/v1/instance").status_code == 429
    keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}*")
    assert keys  # the counters are in Redis, under this instance's prefix
    redis.Redis.from_url(REDIS_URL).delete(*keys)


def test_redis_down_lets_requests_through(make_app: MakeApp, client_for: ClientFor) -> None:
    app = make_app(redis_url="redis://127.0.0.1:1/0", shield_reads_per_address="1/hour")
    client = client_for(app)
    assert [client.get("/api/v1/instance").status_code for _ in range(3)] == [200, 200, 200]


def test_a_flood_queueing_on_redis_sheds_anonymous_checks_not_members(
    make_app: MakeApp,
    client_for: ClientFor,
    redis_prefix: str,
    runtime: Runtime,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As if a flood already had every address-counted check slot waiting on Redis.
    monkeypatch.setattr(ratelimit, "ADDRESS_CHECKS_IN_FLIGHT", 0)
    app = make_app(redis_url=REDIS_URL, shield_redis_prefix=redis_prefix)
    client = client_for(app)
    shed = client.get("/api/v1/instance")
    assert shed.status_code == 503
    assert "retry-after" in shed.headers
    member = client.get("/api/v1/instance", headers=bearer_for(runtime, make_user, "ana"))
    assert member.status_code == 200
    assert "x-ratelimit-remaining" in member.headers  # counted in Redis, not waved through
    keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}*")
    redis.Redis.from_url(REDIS_URL).delete(*keys)


def test_joins_past_the_redis_bound_are_counted_in_memory_not_shed(
    make_app: MakeApp, client_for: ClientFor, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if a join storm already had every live-check slot waiting on Redis.
    monkeypatch.setattr(ratelimit, "LIVE_CHECKS_IN_FLIGHT", 0)
    app = make_app(
        redis_url=REDIS_URL, shield_redis_prefix=redis_prefix, shield_live_per_address="1/hour"
    )
    client = client_for(app)
    refused = second_handshake_refusal(client, "/api/v1/streaming?stream=public")
    assert refused.status_code == 429  # still limited: counted here instead
    assert redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}*") == []
    assert client.get("/api/v1/instance").status_code == 200  # other checks still use Redis
    keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}*")
    assert keys
    redis.Redis.from_url(REDIS_URL).delete(*keys)


def test_shutdown_closes_the_counters_redis_connections(
    make_app: MakeApp, redis_prefix: str
) -> None:
    """Left open, they outlive the loop that served and surface later, in whichever test the
    collector happens to run, as unclosed sockets on a closed loop."""
    from starlette.testclient import TestClient

    app = make_app(redis_url=REDIS_URL, shield_redis_prefix=redis_prefix)
    with TestClient(app, client=("192.0.2.9", 40000)) as client:
        assert client.get("/api/v1/instance").headers["x-ratelimit-remaining"]
        pool = app.state.shield.limits._pool
        assert pool._in_use_connections or pool._available_connections  # it was used
    assert not [c for c in pool._available_connections if c.is_connected]
    assert not pool._in_use_connections
