"""Rate limits per address, per account and per route class, with Mastodon's headers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parvis.runtime import Runtime
from tests.conftest import MakeUser
from tests.shield.conftest import (
    ClientFor,
    MakeApp,
    bearer_for,
    second_handshake_refusal,
    session_cookie_for,
)


def test_anonymous_reads_are_limited_per_address_with_headers(
    make_app: MakeApp, client_for: ClientFor
) -> None:
    client = client_for(make_app(shield_reads_per_address="3/hour"))
    first = client.get("/api/v1/timelines/public")
    assert first.status_code == 200
    assert first.headers["x-ratelimit-limit"] == "3"
    assert first.headers["x-ratelimit-remaining"] == "2"
    reset = datetime.strptime(first.headers["x-ratelimit-reset"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert reset.replace(tzinfo=UTC) > datetime.now(UTC)
    assert client.get("/api/v1/timelines/public").headers["x-ratelimit-remaining"] == "1"
    assert client.get("/api/v1/timelines/public").headers["x-ratelimit-remaining"] == "0"
    refused = client.get("/api/v1/timelines/public")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert "Too many requests" in refused.json()["error"]


def test_browsers_get_an_html_429(make_app: MakeApp, client_for: ClientFor) -> None:
    client = client_for(make_app(shield_reads_per_address="1/hour"))
    client.get("/public")
    refused = client.get("/public", headers={"accept": "text/html"})
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert "Slow down" in refused.text


def test_another_address_has_its_own_budget(make_app: MakeApp, client_for: ClientFor) -> None:
    app = make_app(shield_reads_per_address="1/hour")
    one, other = client_for(app, "203.0.113.1"), client_for(app, "203.0.113.2")
    assert one.get("/api/v1/instance").status_code == 200
    assert one.get("/api/v1/instance").status_code == 429
    assert other.get("/api/v1/instance").status_code == 200


def test_route_classes_have_separate_budgets(make_app: MakeApp, client_for: ClientFor) -> None:
    client = client_for(make_app(shield_login_per_address="2/hour"))
    for _ in range(2):
        assert client.post("/login", data={}).status_code != 429
    assert client.post("/login", data={}).status_code == 429
    assert client.post("/oauth/token", data={}).status_code == 429  # also a log-in
    assert client.get("/api/v1/instance").status_code == 200  # reads are not affected


def test_members_are_limited_per_account_not_per_address(
    make_app: MakeApp, client_for: ClientFor, runtime: Runtime, make_user: MakeUser
) -> None:
    app = make_app(shield_reads_per_address="1/hour", shield_reads_per_account="2/hour")
    client = client_for(app)
    ana, bob = bearer_for(runtime, make_user, "ana"), bearer_for(runtime, make_user, "bob")
    assert client.get("/api/v1/timelines/home", headers=ana).status_code == 200
    second = client.get("/api/v1/timelines/home", headers=ana)
    assert second.status_code == 200
    assert second.headers["x-ratelimit-limit"] == "2"
    assert client.get("/api/v1/timelines/home", headers=ana).status_code == 429
    # Same address, another member: their own budget. Anonymous: the address budget.
    assert client.get("/api/v1/timelines/home", headers=bob).status_code == 200
    assert client.get("/api/v1/timelines/public").status_code == 200
    assert client.get("/api/v1/timelines/public").status_code == 429


def test_session_cookie_counts_against_the_account(
    make_app: MakeApp, client_for: ClientFor, runtime: Runtime, make_user: MakeUser
) -> None:
    app = make_app(shield_reads_per_address="1/hour", shield_reads_per_account="5/hour")
    client = client_for(app)
    client.cookies.set("parvis_session", session_cookie_for(runtime, make_user, "cara"))
    statuses = [client.get("/").status_code for _ in range(5)]
    assert statuses == [200] * 5
    refused = client.get("/")
    assert refused.status_code == 429
    assert "your account" in refused.text


def test_posting_limit_per_account(
    make_app: MakeApp, client_for: ClientFor, runtime: Runtime, make_user: MakeUser
) -> None:
    client = client_for(make_app(shield_posting_per_account="2/hour;100/day"))
    ana = bearer_for(runtime, make_user, "ana")
    ids = []
    for n in range(2):
        response = client.post("/api/v1/statuses", data={"status": f"post {n}"}, headers=ana)
        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-limit"] == "2"  # the tighter of the two
        ids.append(response.json()["id"])
    refused = client.post("/api/v1/statuses", data={"status": "one more"}, headers=ana)
    assert refused.status_code == 429
    # Other writes have their own budget.
    bookmarked = client.post(f"/api/v1/statuses/{ids[0]}/bookmark", headers=ana)
    assert bookmarked.status_code == 200, bookmarked.text


def test_spoofed_forwarded_for_from_untrusted_peer_does_not_escape_the_limit(
    make_app: MakeApp, client_for: ClientFor
) -> None:
    app = make_app(shield_reads_per_address="2/hour", shield_trusted_proxies="10.0.0.1")
    attacker = client_for(app, "198.51.100.66")
    statuses = [
        attacker.get("/api/v1/instance", headers={"x-forwarded-for": f"192.0.2.{n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 429, 429]


def test_trusted_proxy_forwarded_clients_each_have_a_budget(
    make_app: MakeApp, client_for: ClientFor
) -> None:
    app = make_app(shield_reads_per_address="1/hour", shield_trusted_proxies="10.0.0.1")
    proxy = client_for(app, "10.0.0.1")
    first = proxy.get("/api/v1/instance", headers={"x-forwarded-for": "192.0.2.1"})
    second = proxy.get("/api/v1/instance", headers={"x-forwarded-for": "192.0.2.2"})
    again = proxy.get("/api/v1/instance", headers={"x-forwarded-for": "192.0.2.1"})
    assert (first.status_code, second.status_code, again.status_code) == (200, 200, 429)


def test_websocket_handshakes_are_limited(make_app: MakeApp, client_for: ClientFor) -> None:
    client = client_for(make_app(shield_live_per_address="1/hour"))
    refused = second_handshake_refusal(client, "/api/v1/streaming?stream=public")
    assert refused.status_code == 429
    assert "retry-after" in refused.headers


def test_default_limits_leave_normal_use_alone(client_for: ClientFor, make_app: MakeApp) -> None:
    client = client_for(make_app())
    assert all(client.get("/api/v1/instance").status_code == 200 for _ in range(100))


def test_memory_counters_expire_without_threads() -> None:
    import threading

    import limits as limits_library

    from parvis.shield.ratelimit import InlineExpiryMemoryStorage

    storage = InlineExpiryMemoryStorage()
    limiter = limits_library.strategies.SlidingWindowCounterRateLimiter(storage)
    item = limits_library.parse("2/second")
    before = threading.active_count()
    assert limiter.hit(item, "k")
    assert limiter.hit(item, "k")
    assert not limiter.hit(item, "k")
    assert threading.active_count() == before  # no expiry thread started
    storage.expirations["old"] = 0.0
    storage.storage["old"] = 1
    storage._next_expiry = 0.0
    limiter.hit(item, "other")
    assert "old" not in storage.storage  # expired in line


def test_forged_cookies_buy_only_a_budget_of_lookups(
    make_app: MakeApp, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import limits as limits_library

    from parvis.shield import ratelimit

    monkeypatch.setattr(ratelimit, "CREDENTIAL_LOOKUPS", limits_library.parse("3/hour"))
    app = make_app()
    identities = app.state.shield.identities
    looked_up: list[object] = []
    original = identities._lookup

    def counting_lookup(creds: object) -> object:
        looked_up.append(1)
        return original(creds)

    monkeypatch.setattr(identities, "_lookup", counting_lookup)
    client = client_for(app)
    for n in range(6):
        forged = {"Authorization": f"Bearer forged-{n}"}
        assert client.get("/api/v1/instance", headers=forged).status_code == 200
    assert len(looked_up) == 3  # then the forged tokens count as anonymous, unlooked-up


def test_any_number_of_real_members_behind_one_address_are_recognised(
    make_app: MakeApp,
    client_for: ClientFor,
    runtime: Runtime,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A NAT or an unconfigured proxy puts many members on one address: only credentials that
    do not exist spend the address's lookup budget, so members keep their priority."""
    import limits as limits_library

    from parvis.shield import ratelimit

    monkeypatch.setattr(ratelimit, "CREDENTIAL_LOOKUPS", limits_library.parse("3/hour"))
    app = make_app(shield_reads_per_address="5/hour")
    client = client_for(app)
    for n in range(8):
        answer = client.get(
            "/api/v1/instance", headers=bearer_for(runtime, make_user, f"member{n}")
        )
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Limit"] != "5", "counted as anonymous"
