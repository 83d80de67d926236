"""Engines and sessions: one place that knows how to talk to SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from parvis.config import Settings
from parvis.storage.hot import ReadConnection


def make_engine(settings: Settings) -> Engine:
    """Create the engine for the configured database, with SQLite tuned for a web server."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 15},
            pool_size=8,
            max_overflow=16,
        )
        synchronous = settings.sqlite_synchronous

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Python's sqlite3 opens transactions lazily and never for SELECT; we want
            # explicit BEGIN so reads inside a unit of work see one snapshot.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """Owns the engine and hands out sessions (units of work)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.dialect = self.engine.dialect.name
        self.url = str(self.engine.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits when the block ends normally, rolls back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[ReadConnection]:
        """A read-only transaction on a pooled connection, for the hot read path (`storage.hot`):
        one consistent snapshot for all its statements, without the ORM session's cost."""
        pooled = self.engine.raw_connection()
        try:
            driver = pooled.driver_connection
            if self.dialect == "sqlite":
                driver.execute("BEGIN")  # type: ignore[union-attr]
            else:  # PostgreSQL reads each statement's own snapshot unless told otherwise
                driver.execute(  # type: ignore[union-attr]
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
            yield ReadConnection(self.dialect, self.url, driver)
        finally:
            try:
                pooled.rollback()  # nothing was written; ends the snapshot
            finally:
                pooled.close()  # back to the pool

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
