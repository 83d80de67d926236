"""With Redis configured, every worker counts the same requests."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.shield.conftest import ClientFor, MakeApp

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
