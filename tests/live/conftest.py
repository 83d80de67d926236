"""Live-room fixtures: an app whose waiting line and relay are tuned per test."""

from __future__ import annotations

import gc
import warnings
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


@pytest.fixture
def earlier_garbage_collected() -> None:
    """Collect, without its warnings, what earlier tests in this process left for the
    collector. Their apps froze it at start-up (`gc.freeze`), and the live heap guard unfreezes
    and collects when a room empties: their unclosed sockets and connections would then be
    reported, as ResourceWarnings, in the live test that happened to run next."""
    gc.unfreeze()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


# Chromium (skipped without it) and uvicorn on 127.0.0.1, for the browser tests.
from tests.web.conftest import browser, live_server  # noqa: E402, F401
