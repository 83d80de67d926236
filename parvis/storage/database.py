"""Engines and sessions: one place that knows how to talk to SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import threading
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
            # IMMEDIATE: a unit of work takes the write lock when it starts, waiting for it up to
            # busy_timeout. A deferred one that read first and then wrote failed at once
            # ("database is locked") whenever another writer had committed in between; two
            # members posting at the same moment was enough. Read-only units of work
            # (`Database.session(read_only=True)`, `Database.read()`) take a snapshot and no lock,
            # so they never wait for writers, and may run inside a writing one.
            read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def _sqlite_snapshot(reader: ReadConnection) -> Iterator[ReadConnection]:
    """One read transaction on a SQLite connection (nothing is written, so it rolls back)."""
    reader.dbapi.execute("BEGIN")
    try:
        yield reader
    finally:
        reader.dbapi.execute("ROLLBACK")


READ_ONLY_OPTION = "parvis_read_only"


class Database:
    """Owns the engine and hands out sessions (units of work)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.dialect = self.engine.dialect.name
        self.url = str(self.engine.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
        )
        self._local = threading.local()
        self._readers: list[Any] = []
        self._readers_lock = threading.Lock()

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A unit of work: commits when the block ends normally, rolls back on error. On SQLite
        it holds the write lock from its start (see `make_engine`) unless `read_only`: a
        read-only one sees a snapshot, waits for nobody and must not write."""
        session = (self._read_sessions if read_only else self._sessions)()
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
        """A read-only transaction for the hot read path (`storage.hot`): one consistent snapshot
        for all its statements, without the ORM session's cost."""
        if self.dialect == "sqlite":
            with self._sqlite_read() as reader:
                yield reader
            return
        pooled = self.engine.raw_connection()
        try:
            driver = pooled.driver_connection
            # PostgreSQL reads each statement's own snapshot unless told otherwise.
            driver.execute(  # type: ignore[union-attr]
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
            )
            yield ReadConnection(self.dialect, self.url, driver)
        finally:
            try:
                pooled.rollback()  # nothing was written; ends the snapshot
            finally:
                pooled.close()  # back to the pool

    @contextmanager
    def _sqlite_read(self) -> Iterator[ReadConnection]:
        # On SQLite a connection is a local file handle: an event-loop thread (long-lived; the
        # hot reads run on it) keeps one for reads, off the pool, whose check-out and check-in
        # cost twice the BEGIN and ROLLBACK (two reads per timeline request). Other threads,
        # and a read nested in another, take a pooled one.
        local = self._local
        if getattr(local, "busy", False) or not _on_event_loop():
            pooled = self.engine.raw_connection()
            try:
                with _sqlite_snapshot(
                    ReadConnection(self.dialect, self.url, pooled.driver_connection)
                ) as nested:
                    yield nested
            finally:
                pooled.close()
            return
        reader: ReadConnection | None = getattr(local, "reader", None)
        if reader is None:
            reader = local.reader = self._new_reader()
        local.busy = True
        try:
            with _sqlite_snapshot(reader):
                yield reader
        finally:
            local.busy = False

    def _new_reader(self) -> ReadConnection:
        """A driver connection set up like the pool's (pragmas), then owned by this thread."""
        pooled = self.engine.raw_connection()
        driver = pooled.driver_connection
        pooled.detach()
        with self._readers_lock:
            self._readers.append(driver)
        return ReadConnection(self.dialect, self.url, driver)

    def dispose(self) -> None:
        """Close every pooled connection and the threads' read connections."""
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for driver in readers:
            with contextlib.suppress(Exception):
                driver.close()
        self._local = threading.local()
        self.engine.dispose()
