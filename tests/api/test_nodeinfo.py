"""NodeInfo: discovery at /.well-known/nodeinfo and the 2.0 / 2.1 documents with live counts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import update
from starlette.testclient import TestClient

from parvis import __version__
from parvis.accounts.models import User
from parvis.app import create_app
from parvis.config import Settings
from parvis.runtime import Runtime
from parvis.storage.base import utcnow
from tests.api.conftest import TokenFor, post_status
from tests.conftest import MakeUser
from tests.servers import serve

SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/"


def test_discovery_links_each_version_to_its_document(client: TestClient) -> None:
    links = client.get("/.well-known/nodeinfo").json()["links"]
    assert links == [
        {"rel": f"{SCHEMA}2.0", "href": "http://testserver/nodeinfo/2.0"},
        {"rel": f"{SCHEMA}2.1", "href": "http://testserver/nodeinfo/2.1"},
    ]
    for link in links:
        response = client.get(link["href"])
        assert response.status_code == 200
        version = link["rel"].removeprefix(SCHEMA)
        assert response.json()["version"] == version
        assert response.headers["content-type"] == f'application/json; profile="{SCHEMA}{version}#"'


def test_document_names_the_software_and_counts_usage(
    client: TestClient, token_for: TokenFor, make_user: MakeUser, runtime: Runtime
) -> None:
    ana = token_for("ana")  # signing in makes a member active
    post_status(client, ana, "one")
    gone = post_status(client, ana, "two")
    client.delete(f"/api/v1/statuses/{gone['id']}", headers=ana)  # deleted: not counted
    make_user("idle")  # never signed in nor posted
    old = make_user("old")
    with runtime.db.session() as session:
        session.execute(
            update(User).where(User.id == old.id).values(last_active_at=utcnow() - timedelta(90))
        )
    document = client.get("/nodeinfo/2.1").json()
    assert document["software"] == {"name": "parvis", "version": __version__}
    assert document["protocols"] == []
    assert document["services"] == {"inbound": [], "outbound": []}
    assert document["openRegistrations"] is True
    assert document["usage"] == {
        "users": {"total": 3, "activeHalfyear": 2, "activeMonth": 1},
        "localPosts": 1,
    }
    assert document["metadata"]["nodeName"] == "Parvis"
    assert client.get("/nodeinfo/2.0").json()["usage"] == document["usage"]


@pytest.fixture
def closed_app(settings: Settings) -> Iterator[FastAPI]:
    """The app of an instance with sign-ups closed and its own name."""
    changed = settings.model_copy(
        update={"registrations_open": False, "instance_name": "Town square"}
    )
    application = create_app(changed, migrate_on_start=False)
    yield application
    application.state.runtime.db.dispose()


def test_closed_registrations_and_the_node_name_come_from_settings(closed_app: FastAPI) -> None:
    with TestClient(closed_app) as client:
        document = client.get("/nodeinfo/2.0").json()
    assert document["openRegistrations"] is False
    assert document["metadata"]["nodeName"] == "Town square"


@pytest.fixture
def addressed_server(settings: Settings) -> Iterator[str]:
    """A live server whose `base_url` is its own address, as the links NodeInfo discovery
    gives are absolute (clients follow them)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"http://127.0.0.1:{port}"
    application = create_app(
        settings.model_copy(update={"base_url": address}), migrate_on_start=False
    )
    yield from serve(application, port)
    application.state.runtime.db.dispose()


def test_mastodon_py_follows_discovery_to_the_document(addressed_server: str) -> None:
    mastodon: Any = pytest.importorskip("mastodon")  # a test-only dependency
    api = mastodon.Mastodon(api_base_url=addressed_server, version_check_mode="none")
    document = api.instance_nodeinfo()
    assert document["version"] == "2.0"
    assert document["software"]["name"] == "parvis"
    newer = api.instance_nodeinfo(schema="http://nodeinfo.diaspora.software/ns/schema/2.1")
    assert newer["version"] == "2.1"
