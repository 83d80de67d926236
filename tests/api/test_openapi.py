"""The served OpenAPI document describes the API that is actually mounted."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.routing import BaseRoute, Route
from starlette.testclient import TestClient

EXPECTED = {
    ("get", "/api/v1/instance"),
    ("get", "/api/v2/instance"),
    ("post", "/api/v1/apps"),
    ("get", "/api/v1/apps/verify_credentials"),
    ("post", "/oauth/token"),
    ("post", "/oauth/revoke"),
    ("post", "/api/v1/accounts"),
    ("get", "/api/v1/accounts/verify_credentials"),
    ("patch", "/api/v1/accounts/update_credentials"),
    ("get", "/api/v1/accounts/{account_id}"),
    ("get", "/api/v1/accounts/lookup"),
    ("get", "/api/v1/accounts/search"),
    ("get", "/api/v1/accounts/relationships"),
    ("get", "/api/v1/accounts/{account_id}/statuses"),
    ("get", "/api/v1/accounts/{account_id}/followers"),
    ("get", "/api/v1/accounts/{account_id}/following"),
    ("post", "/api/v1/accounts/{account_id}/{action}"),
    ("get", "/api/v1/blocks"),
    ("get", "/api/v1/mutes"),
    ("post", "/api/v1/statuses"),
    ("get", "/api/v1/statuses/{status_id}"),
    ("put", "/api/v1/statuses/{status_id}"),
    ("delete", "/api/v1/statuses/{status_id}"),
    ("get", "/api/v1/statuses/{status_id}/context"),
    ("get", "/api/v1/statuses/{status_id}/history"),
    ("get", "/api/v1/statuses/{status_id}/source"),
    ("post", "/api/v1/statuses/{status_id}/{action}"),
    ("get", "/api/v1/bookmarks"),
    ("post", "/api/v1/media"),
    ("post", "/api/v2/media"),
    ("get", "/api/v1/media/{media_id}"),
    ("put", "/api/v1/media/{media_id}"),
    ("get", "/api/v1/timelines/home"),
    ("get", "/api/v1/timelines/public"),
    ("get", "/api/v1/timelines/tag/{tag}"),
    ("get", "/api/v1/notifications"),
    ("get", "/api/v1/notifications/{notification_id}"),
    ("post", "/api/v1/notifications/clear"),
    ("post", "/api/v1/notifications/{notification_id}/dismiss"),
    ("get", "/api/v2/search"),
    ("post", "/api/v1/reports"),
    ("post", "/api/parvis/v1/statuses/{status_id}/vote"),
    ("get", "/api/parvis/v1/articles"),
    ("post", "/api/parvis/v1/articles"),
    ("get", "/api/parvis/v1/ranks"),
    ("get", "/api/parvis/v1/accounts/{account_id}/rank"),
    # admin moderation API
    ("get", "/api/v1/admin/reports"),
    ("get", "/api/v1/admin/reports/{report_id}"),
    ("put", "/api/v1/admin/reports/{report_id}"),
    ("post", "/api/v1/admin/reports/{report_id}/{action}"),
    ("get", "/api/v1/admin/accounts"),
    ("get", "/api/v2/admin/accounts"),
    ("get", "/api/v1/admin/accounts/{account_id}"),
    ("post", "/api/v1/admin/accounts/{account_id}/action"),
    ("post", "/api/v1/admin/accounts/{account_id}/{lift}"),
    ("get", "/api/v1/admin/domain_blocks"),
    ("post", "/api/v1/admin/domain_blocks"),
    ("get", "/api/v1/admin/domain_blocks/{block_id}"),
    ("delete", "/api/v1/admin/domain_blocks/{block_id}"),
    # Parvis: rules, decisions, statements, appeals
    ("get", "/api/v1/instance/rules"),
    ("get", "/api/parvis/v1/rules"),
    ("get", "/api/parvis/v1/rules/versions"),
    ("get", "/api/parvis/v1/rules/versions/{version}"),
    ("get", "/api/parvis/v1/decisions"),
    ("get", "/api/parvis/v1/decisions/{decision_id}"),
    ("get", "/api/parvis/v1/statements/{decision_id}"),
    ("post", "/api/parvis/v1/decisions/{decision_id}/appeals"),
    ("get", "/api/parvis/v1/appeals"),
    ("get", "/api/parvis/v1/appeals/{appeal_id}"),
    ("get", "/api/parvis/v1/admin/appeals"),
    ("post", "/api/parvis/v1/admin/appeals/{appeal_id}/decide"),
    # filters, pins and who favourited / reblogged
    ("get", "/api/v1/filters"),
    ("post", "/api/v1/filters"),
    ("put", "/api/v1/filters/{filter_id}"),
    ("delete", "/api/v1/filters/{filter_id}"),
    ("get", "/api/v2/filters"),
    ("post", "/api/v2/filters"),
    ("get", "/api/v2/filters/{filter_id}"),
    ("put", "/api/v2/filters/{filter_id}"),
    ("delete", "/api/v2/filters/{filter_id}"),
    ("get", "/api/v2/filters/{filter_id}/keywords"),
    ("post", "/api/v2/filters/{filter_id}/keywords"),
    ("get", "/api/v2/filters/keywords/{keyword_id}"),
    ("put", "/api/v2/filters/keywords/{keyword_id}"),
    ("delete", "/api/v2/filters/keywords/{keyword_id}"),
    ("get", "/api/v1/statuses/{status_id}/favourited_by"),
    ("get", "/api/v1/statuses/{status_id}/reblogged_by"),
    # streaming (server-sent events; the WebSocket is /api/v1/streaming)
    ("get", "/api/v1/streaming/health"),
    ("get", "/api/v1/streaming/user"),
    ("get", "/api/v1/streaming/public"),
    ("get", "/api/v1/streaming/hashtag"),
    # NodeInfo discovery
    ("get", "/.well-known/nodeinfo"),
    ("get", "/nodeinfo/2.0"),
    ("get", "/nodeinfo/2.1"),
    # Parvis: the provable log's tree heads and proofs
    ("get", "/api/parvis/v1/log/key"),
    ("get", "/api/parvis/v1/log/head"),
    ("get", "/api/parvis/v1/log/heads"),
    ("get", "/api/parvis/v1/log/leaves"),
    ("get", "/api/parvis/v1/log/leaves/{leaf_index}"),
    ("get", "/api/parvis/v1/log/proof/inclusion"),
    ("get", "/api/parvis/v1/log/proof/consistency"),
}
# JSON API paths: every HTTP route under them must be in the document.
API_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/")
# Served under those prefixes but not part of the API: the document itself and its viewer.
NOT_API = {"/api/openapi.json", "/api/docs"}


def test_openapi_lists_the_api_and_hides_html_pages(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    missing = EXPECTED - operations
    assert not missing, f"undocumented operations: {missing}"
    assert not any(path.startswith(("/@", "/settings", "/login")) for _, path in operations)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("description") or operation.get("summary"), f"{method} {path}"


def _mounted(routes: Sequence[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path) of every HTTP route of the app, through included routers."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found |= _mounted(inner.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, Route):  # FastAPI's APIRoute is one
            path = prefix + route.path
            found |= {(m.lower(), path) for m in route.methods or () if m != "HEAD"}
    return found


def test_every_mounted_api_route_is_in_the_document(app: FastAPI, client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    mounted = {
        (method, path)
        for method, path in _mounted(app.router.routes)
        if path.startswith(API_PREFIXES) and path not in NOT_API
    }
    assert len(mounted) > 100
    assert not mounted - documented, f"undocumented routes: {sorted(mounted - documented)}"
    assert not documented - _mounted(app.router.routes), "documented routes that do not exist"


def test_entity_shapes_are_documented(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    status = schemas["Status"]["properties"]
    assert {"favourites_count", "reblog", "parvis"} <= status.keys()
    assert "Account" in schemas
    assert "Relationship" in schemas
    for name in ("AdminAccount", "AdminReport", "AdminDomainBlock", "Rule", "Filter", "V1Filter"):
        assert name in schemas, name
    admin_account = schemas["AdminAccount"]["properties"]
    assert {
        "email",
        "role",
        "confirmed",
        "suspended",
        "silenced",
        "account",
    } <= admin_account.keys()
