"""Prometheus metrics: served to loopback, admins and the token holder; they count what the
shield did."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from parvis.accounts.models import Role
from parvis.runtime import Runtime
from tests.conftest import MakeUser
from tests.shield.conftest import ClientFor, MakeApp, bearer_for


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


def test_metrics_count_requests_and_refusals(make_app: MakeApp, client_for: ClientFor) -> None:
    app = make_app(shield_search_per_address="1/hour")
    local = client_for(app, "127.0.0.1")
    before = local.get("/metrics").text
    outsider = client_for(app, "198.51.100.3")
    outsider.get("/api/v2/search", params={"q": "x"})
    assert outsider.get("/api/v2/search", params={"q": "x"}).status_code == 429
    response = local.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    limited = ("parvis_shield_refused_total", {"reason": "rate_limit", "route_class": "search"})
    assert sample(after, limited[0], **limited[1]) == sample(before, limited[0], **limited[1]) + 1
    key = ("parvis_shield_requests_total", {"route_class": "search", "status": "429"})
    assert sample(after, key[0], **key[1]) >= 1
    assert sample(after, "parvis_shield_concurrency_limit") > 0
    assert "parvis_shield_request_seconds_bucket" in after
    assert "parvis_shield_loop_lag_seconds" in after


def test_metrics_are_not_public(
    make_app: MakeApp, client_for: ClientFor, runtime: Runtime, make_user: MakeUser
) -> None:
    app = make_app(shield_metrics_token=SecretStr("scrape-me-please"))
    outsider = client_for(app, "198.51.100.4")
    refused = outsider.get("/metrics")
    assert refused.status_code == 403
    assert "loopback" in refused.json()["error"]
    scraper = outsider.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert scraper.status_code == 200
    member = bearer_for(runtime, make_user, "ana")
    assert outsider.get("/metrics", headers=member).status_code == 403
    admin = bearer_for(runtime, make_user, "boss", role=Role.ADMIN)
    assert outsider.get("/metrics", headers=admin).status_code == 200
