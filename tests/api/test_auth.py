"""Bearer tokens and scope checks: read covers read:*, follow covers the follow sub-scopes."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from parvis.api.auth import Caller
from tests.api.conftest import TokenFor


@pytest.mark.parametrize(
    ("granted", "needed", "allowed"),
    [
        ("read", "read:statuses", True),
        ("read", "read", True),
        ("read:statuses", "read:statuses", True),
        ("read:statuses", "read:accounts", False),
        ("read", "write:statuses", False),
        ("write", "write:media", True),
        ("follow", "write:follows", True),
        ("follow", "read:blocks", True),
        ("follow", "write:statuses", False),
        ("write:follows", "write:follows", True),
        ("admin:read", "admin:read:accounts", True),
        ("admin:read", "admin:write:accounts", False),
        ("read write", "admin:read", False),
    ],
)
def test_scope_coverage(granted: str, needed: str, allowed: bool) -> None:
    caller = Caller(user=None, scopes=frozenset(granted.split()), app_id=1)
    assert caller.allows(needed) is allowed


def test_missing_malformed_and_unknown_tokens(client: TestClient, token_for: TokenFor) -> None:
    token_for("ana")
    missing = client.get("/api/v1/timelines/home")
    assert missing.status_code == 401
    assert "Bearer" in missing.json()["error"]
    basic = client.get("/api/v1/timelines/home", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401
    unknown = client.get("/api/v1/timelines/home", headers={"Authorization": "Bearer x"})
    assert unknown.status_code == 401
    assert "invalid" in unknown.json()["error"]
    # A bad token is refused even where anonymous access is fine: clients learn it is bad.
    public = client.get("/api/v1/timelines/public", headers={"Authorization": "Bearer x"})
    assert public.status_code == 401


def test_sub_scoped_token(client: TestClient, token_for: TokenFor) -> None:
    narrow = token_for("ana", scope="read:statuses write:statuses")
    assert client.get("/api/v1/timelines/home", headers=narrow).status_code == 200
    assert client.post("/api/v1/statuses", data={"status": "ok"}, headers=narrow).status_code == 200
    denied = client.get("/api/v1/notifications", headers=narrow)
    assert denied.status_code == 403
    assert "read:notifications" in denied.json()["error"]
    assert client.get("/api/v1/accounts/verify_credentials", headers=narrow).status_code == 403
