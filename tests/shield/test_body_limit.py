"""Oversized bodies are refused before the app reads them, on every route."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from parvis.config import Settings
from parvis.shield.body_limit import BodySizeLimit


def test_declared_oversized_body_gets_413_json_on_api(
    client: TestClient, settings: Settings
) -> None:
    response = client.post("/api/v1/statuses", content=b"x" * (settings.max_form_bytes + 1))
    assert response.status_code == 413
    assert "too large" in response.json()["error"]


def test_chunked_oversized_body_is_cut_off() -> None:
    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        await PlainTextResponse(f"read {len(body)}")(scope, receive, send)

    limited = TestClient(BodySizeLimit(echo, limit_for=lambda _path: 4096))

    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield b"x" * 1024

    response = limited.post("/upload", content=chunks(), headers={"accept": "text/html"})
    assert response.status_code == 413
    assert "at most 4 KB" in response.text
    assert limited.post("/upload", content=b"x" * 100).text == "read 100"


def test_malformed_content_length_is_a_clear_400(client: TestClient) -> None:
    response = client.post("/api/v1/statuses", headers={"content-length": "abc"}, content=b"")
    assert response.status_code in (400, 422)
