"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when
PARVIS_TEST_DATABASE_URL is set), the app, an HTTP client and member factories."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from parvis.accounts import services as accounts
from parvis.accounts.models import Role, User
from parvis.accounts.services import Services
from parvis.app import create_app
from parvis.config import Settings
from parvis.mail import Mailer, outbox
from parvis.mail.models import OutgoingMail
from parvis.moderation import screening, statement_outbox
from parvis.runtime import Runtime
from parvis.storage import migrate
from parvis.storage.database import Database
from parvis.storage.registry import metadata
from tests.sites import site  # noqa: F401 - a fixture shared by link-checker tests

PG_URL = os.environ.get("PARVIS_TEST_DATABASE_URL", "")
PASSWORD = "correct horse battery staple 42"
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def _pg_url_with_schema(schema: str) -> str:
    url = make_url(PG_URL)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (faster than migrating each time)."""
    folder = tmp_path_factory.mktemp("template")
    settings = Settings(data_dir=folder)
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.db.engine)
    runtime.db.dispose()
    return folder / "parvis.db"


@pytest.fixture(scope="session")
def pg_schema_url(worker_id: str) -> Iterator[str]:
    """A migrated PostgreSQL schema for this test worker."""
    schema = f"parvis_test_{worker_id}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _pg_url_with_schema(schema)
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Settings:
    """Settings for one test: its own data folder and a clean, migrated database."""
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "secret_key": "test-secret-key-not-for-production",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        "sqlite_synchronous": "OFF",
        "base_url": "http://testserver",
        "link_check_enabled": False,
    }
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_schema_url")
        engine = create_engine(url)
        with engine.begin() as connection:
            names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        screening.forget_cached_state()  # the same URL now names an emptied database
        values["database_url"] = url
    else:
        shutil.copy(sqlite_template, tmp_path / "parvis.db")
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """The shared parts (database, mailer) for a test, closed afterwards."""
    built = Runtime.build(settings)
    yield built
    built.db.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    """The ASGI application on the test database (its connections closed afterwards)."""
    application = create_app(settings, migrate_on_start=False)
    yield application
    application.state.runtime.db.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client talking to the app in-process."""
    with TestClient(app) as test_client:
        yield test_client


MakeUser = Callable[..., User]


@pytest.fixture
def make_user(runtime: Runtime) -> MakeUser:
    """Create a verified member (or moderator/admin) with the shared test password."""

    def factory(
        username: str, *, role: Role = Role.MEMBER, verified: bool = True, email: str | None = None
    ) -> User:
        with runtime.db.session() as session:
            return accounts.create_user(
                session,
                runtime.settings,
                username=username,
                email=email or f"{username}@example.org",
                password=PASSWORD,
                role=role,
                verified=verified,
                check_strength=False,
            )

    return factory


def outbox_messages(settings: Settings) -> list[str]:
    """Every e-mail written to the outbox, in the order it was queued: headers and decoded
    body as text. Delivers what is queued first (statements of reasons still pending, then
    e-mails), as the server's outbox loop would (a running
    app's loop may deliver some at the same time, so files are not ordered by when they were
    written but by the queue id in their Message-ID, and messages that loop has claimed are
    waited for until written)."""
    database = Database(settings)
    # Statements of reasons still to be written first, as the server's loop would.
    statement_outbox.deliver_all(database, Services(settings, Mailer(settings)))
    unsent = (
        select(func.count())
        .select_from(OutgoingMail)
        .where(OutgoingMail.sent_at.is_(None), OutgoingMail.attempts < outbox.MAX_ATTEMPTS)
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            outbox.deliver_all(database, settings)
            with database.session(read_only=True) as session:
                if not session.scalar(unsent) or time.monotonic() > deadline:
                    break
            time.sleep(0.02)
    finally:
        database.dispose()
    folder = settings.outbox_dir
    if not folder.exists():
        return []
    queued: list[tuple[int, str, str]] = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        assert body is not None
        headers = "".join(f"{key}: {value}\n" for key, value in message.items())
        queue_id = re.search(r"\.mail\.(\d+)@", str(message["Message-ID"]))
        order = int(queue_id.group(1)) if queue_id else 0
        queued.append((order, path.name, headers + "\n" + body.get_content()))
    return [text for _, _, text in sorted(queued)]
