"""Mastodon pagination: `Link` headers with max_id/min_id that keep the other parameters."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import TokenFor, ids, post_status


def test_link_header_keeps_filters_and_drops_old_cursors(
    client: TestClient, token_for: TokenFor
) -> None:
    ana = token_for("ana")
    made = [post_status(client, ana, f"#paged number {n}")["id"] for n in range(4)]
    response = client.get(f"/api/v1/timelines/tag/paged?limit=2&since_id={made[0]}")
    link = response.headers["link"]
    next_url, prev_url = (part.split(";")[0].strip("<> ") for part in link.split(","))
    assert next_url == (f"http://testserver/api/v1/timelines/tag/paged?limit=2&max_id={made[2]}")
    assert prev_url == f"http://testserver/api/v1/timelines/tag/paged?limit=2&min_id={made[3]}"
    assert ids(client, next_url.removeprefix("http://testserver")) == [made[1], made[0]]
    assert ids(client, prev_url.removeprefix("http://testserver")) == []


def test_empty_page_has_no_link(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    response = client.get("/api/v1/timelines/home", headers=ana)
    assert response.json() == []
    assert "link" not in response.headers


def test_bad_cursors_are_refused(client: TestClient) -> None:
    for query in ("max_id=abc", "min_id=-1", "since_id=1.5", "limit=0", "limit=41"):
        response = client.get(f"/api/v1/timelines/public?{query}")
        assert response.status_code == 422, query
        assert response.json()["error"]


def test_ids_beyond_any_database_integer_name_nothing(
    client: TestClient, token_for: TokenFor
) -> None:
    """PostgreSQL's INTEGER stops at 2**31-1: larger ids are refused before any query."""
    ana = token_for("ana")
    too_big = str(2**31)
    for path in ("/api/v1/timelines/home", "/api/v1/notifications", "/api/v1/bookmarks"):
        response = client.get(f"{path}?max_id={too_big}", headers=ana)
        assert response.status_code == 422, path
        assert "2147483647" in response.json()["error"]
    assert client.get(f"/api/v1/statuses/{too_big}", headers=ana).status_code == 404
    assert client.get(f"/api/v1/accounts/{too_big}", headers=ana).status_code == 404


def test_a_short_page_has_no_next_link(client: TestClient, token_for: TokenFor) -> None:
    """As on Mastodon: fewer results than asked for means nothing older, so no rel="next"."""
    ana = token_for("ana")
    made = [post_status(client, ana, f"#short number {n}")["id"] for n in range(3)]
    full = client.get("/api/v1/timelines/tag/short?limit=2").headers["link"]
    assert 'rel="next"' in full
    assert 'rel="prev"' in full
    short = client.get(f"/api/v1/timelines/tag/short?limit=2&max_id={made[1]}").headers["link"]
    assert 'rel="next"' not in short
    assert f"min_id={made[0]}" in short
