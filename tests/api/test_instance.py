"""Instance discovery: the version string clients parse and the limits they read."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.api.conftest import TokenFor, post_status


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
