"""Routers are skipped by path prefix without changing which route answers."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.testclient import TestClient

from parvis.routing import literal_prefix, skip_routers_by_prefix


def _app() -> FastAPI:
    app = FastAPI()
    items = APIRouter(prefix="/items")

    @items.get("/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    pages = APIRouter()

    @pages.get("/@{name}")
    def profile(name: str) -> dict[str, str]:
        return {"profile": name}

    @pages.post("/items/new")
    def create() -> dict[str, str]:
        return {"created": "yes"}

    app.include_router(items)
    app.include_router(pages)
    return app


def test_literal_prefix_stops_at_the_first_parameter() -> None:
    assert literal_prefix("/api/v1/statuses/{status_id}/context") == "/api/v1/statuses/"
    assert literal_prefix("/health") == "/health"


def test_answers_are_unchanged_and_routers_that_cannot_match_are_skipped() -> None:
    app = _app()
    assert skip_routers_by_prefix(app) == 2
    items_router = app.router.routes[-2]
    with TestClient(app) as client:
        assert client.get("/items/3").json() == {"item": 3}
        assert client.get("/@ana").json() == {"profile": "ana"}
        assert client.post("/items/new").json() == {"created": "yes"}
        assert client.get("/items/new").status_code == 422  # first router's route, as before
        assert client.delete("/items/3").status_code == 405  # partial match kept
        assert client.get("/nothing").status_code == 404
    assert items_router.matches({"type": "http", "path": "/@ana", "method": "GET"})[0].name == (
        "NONE"
    )
