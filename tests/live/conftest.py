"""Live-room fixtures: an app whose waiting line and relay are tuned per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from parvis.app import create_app
from parvis.config import Settings

MakeClient = Callable[..., TestClient]


@pytest.fixture
def live_client(settings: Settings) -> Iterator[MakeClient]:
    """Build a started test client on an app with some live settings changed."""
    opened: list[tuple[TestClient, FastAPI]] = []

    def factory(**overrides: Any) -> TestClient:
        app = create_app(settings.model_copy(update=overrides), migrate_on_start=False)
        client = TestClient(app)
        client.__enter__()
        opened.append((client, app))
        return client

    yield factory
    for client, app in opened:
        client.__exit__(None, None, None)
        app.state.runtime.db.dispose()


from tests.web.conftest import live_server  # noqa: E402, F401 - uvicorn on 127.0.0.1 for the browser
