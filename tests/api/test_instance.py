"""Instance discovery: the version string clients parse and the limits they read."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from parvis.config import Settings
from tests.api.conftest import TokenFor, post_status
from tests.conftest import MakeUser


def test_v1_instance(client: TestClient, token_for: TokenFor) -> None:
    post_status(client, token_for("ana"), "counted")
    instance = client.get("/api/v1/instance").json()
    assert re.match(r"^4\.2\.0 \(compatible; Parvis [\d.]+\)$", instance["version"])
    assert instance["uri"] == "testserver"
    assert instance["stats"] == {"user_count": 1, "status_count": 1, "domain_count": 1}
    assert instance["configuration"]["statuses"]["max_characters"] == 5000
    assert instance["urls"]["streaming_api"].startswith("ws://")
    assert instance["configuration"]["polls"]["max_options"] == 0


def test_v2_instance(client: TestClient) -> None:
    instance = client.get("/api/v2/instance").json()
    assert instance["domain"] == "testserver"
    assert instance["version"].startswith("4.2.0 (compatible; Parvis")
    assert instance["registrations"]["enabled"] is True
    assert (
        "application/pdf"
        in (instance["configuration"]["media_attachments"]["supported_mime_types"])
    )
    assert instance["configuration"]["statuses"]["max_characters"] == 5000


def test_the_source_url_is_the_operators_setting(client: TestClient, settings: Settings) -> None:
    assert client.get("/api/v2/instance").json()["source_url"] == ""  # not published
    settings.instance_source_url = "https://code.example.org/square/parvis"
    assert (
        client.get("/api/v2/instance").json()["source_url"]
        == "https://code.example.org/square/parvis"
    )


def test_both_instances_list_the_rules_in_force(client: TestClient, rulebook: None) -> None:
    rules = client.get("/api/v1/instance/rules").json()
    assert "harassment" in [r["id"] for r in rules]
    assert client.get("/api/v1/instance").json()["rules"] == rules
    assert client.get("/api/v2/instance").json()["rules"] == rules


def test_v2_usage_counts_members_active_this_month(
    client: TestClient, token_for: TokenFor, make_user: MakeUser
) -> None:
    token_for("ana")  # signing in makes a member active
    make_user("idle")
    instance = client.get("/api/v2/instance").json()
    assert instance["usage"] == {"users": {"active_month": 1}}
    assert instance["configuration"]["translation"] == {"enabled": False}
    assert instance["configuration"]["urls"]["streaming"].startswith("ws://")
