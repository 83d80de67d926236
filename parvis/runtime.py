"""The running instance's shared parts (settings, database, mailer), handed to HTTP handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from parvis.accounts import passwords
from parvis.accounts.services import Services
from parvis.config import Settings
from parvis.mail import Mailer
from parvis.storage.database import Database

T = TypeVar("T")


@dataclass
class Runtime:
    """Everything a request handler needs besides the request."""

    settings: Settings
    db: Database
    mailer: Mailer

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Create the runtime for these settings (engine, mailer, password cost)."""
        passwords.use_parameters(settings.argon2_time_cost, settings.argon2_memory_kib)
        return cls(settings=settings, db=Database(settings), mailer=Mailer(settings))

    async def read(self, work: Callable[[], T]) -> T:
        """Run short read-only database work for a request. On SQLite it runs right here on the
        event loop: it is local CPU work, and a hop to a worker thread (with the GIL contention
        it brings) costs more than it saves (home timeline: 97 -> 148 req/s). On PostgreSQL it
        goes to a worker thread, so network waits do not stall the loop."""
        if self.settings.is_sqlite:
            return work()
        return await run_in_threadpool(work)

    @property
    def services(self) -> Services:
        """What account workflows need."""
        return Services(settings=self.settings, mailer=self.mailer)


async def get_runtime(connection: HTTPConnection) -> Runtime:
    """The runtime of the app serving this request (a FastAPI dependency).

    Async so FastAPI does not hop to a worker thread for it (sync dependencies each cost one).
    """
    runtime: Runtime = connection.app.state.runtime
    return runtime
