"""The served OpenAPI document describes the API that is actually mounted."""

from __future__ import annotations

from starlette.testclient import TestClient

EXPECTED = {
    ("get", "/api/v1/instance"),
    ("post", "/api/v1/apps"),
    ("post", "/oauth/token"),
    ("get", "/api/v1/accounts/verify_credentials"),
    ("post", "/api/v1/statuses"),
    ("get", "/api/v1/statuses/{status_id}/context"),
    ("get", "/api/v1/timelines/home"),
    ("get", "/api/v1/timelines/public"),
    ("post", "/api/v1/accounts/{account_id}/{action}"),
    ("get", "/api/v1/notifications"),
    ("get", "/api/v2/search"),
    ("post", "/api/v2/media"),
    ("post", "/api/parvis/v1/statuses/{status_id}/vote"),
}


def test_openapi_lists_the_api_and_hides_html_pages(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    missing = EXPECTED - operations
    assert not missing, f"undocumented operations: {missing}"
    assert not any(path.startswith(("/@", "/settings", "/login")) for _, path in operations)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("description") or operation.get("summary"), f"{method} {path}"
