"""Hand-written SQL for the hottest reads (and a few writes on the decision path), run on the
session's own DBAPI connection.

Why not SQLAlchemy here: a page of statuses needs about ten small statements, and
SQLAlchemy's per-statement work (cache keys, compiled-statement lookup, result-type
processing, ORM hydration) costs several times what SQLite spends running them (25 posts by id:
ORM 261 µs, Core 190 µs, the driver alone 79 µs). So the statements behind every timeline page
are written once, in one neutral form, and rendered for the two databases Parvis supports;
results are plain tuples. Everything else goes through SQLAlchemy. A write here bypasses the
ORM's unit of work: the caller keeps the mapped object in step (`set_committed_value`).

The neutral form: `:name` parameters, and `IN LIST(:name)` / `NOT IN LIST(:name)` for a list of
values, which becomes `IN (SELECT value FROM json_each(?))` on SQLite and `= ANY(...)` on
PostgreSQL, so the statement text never changes with the list's length and both drivers keep
it prepared. `SQLITE INDEX(name)` after a table names the index SQLite must use (`INDEXED BY`):
without histograms its planner takes a rare value of a skewed column (an article among a
million posts) for a common one; PostgreSQL's statistics know better, so there it is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from parvis.storage.base import parse_stored_utc

DIALECTS = ("sqlite", "postgresql")
_LIST = re.compile(r"(NOT )?IN LIST\(:(\w+)\)")
_INDEX = re.compile(r" SQLITE INDEX\((\w+)\)")
_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


def _render(text: str, dialect: str) -> str:
    if dialect == "sqlite":
        hinted = _INDEX.sub(lambda m: f" INDEXED BY {m.group(1)}", text)
        return _LIST.sub(
            lambda m: f"{m.group(1) or ''}IN (SELECT value FROM json_each(:{m.group(2)}))", hinted
        )
    text = _INDEX.sub("", text)
    listed = _LIST.sub(
        lambda m: f"<> ALL(:{m.group(2)})" if m.group(1) else f"= ANY(:{m.group(2)})", text
    )
    return _PARAMETER.sub(lambda m: f"%({m.group(1)})s", listed)


@dataclass(frozen=True, slots=True)
class ReadConnection:
    """A pooled driver connection holding one read-only transaction (one snapshot), without an
    ORM session around it: what `Database.read` hands to the hot read path."""

    dialect: str
    database: str  # the database URL, naming it in per-database caches
    dbapi: Any


# Where hot statements run: an ORM session's transaction, or a bare read transaction.
Reader = Session | ReadConnection


def dialect_of(source: Reader) -> str:
    """The database kind behind a reader ("sqlite" or "postgresql")."""
    if isinstance(source, ReadConnection):
        return source.dialect
    return source.get_bind().dialect.name


def database_of(source: Reader) -> str:
    """The database URL behind a reader (a key for caches that hold per-database facts)."""
    if isinstance(source, ReadConnection):
        return source.database
    return str(source.get_bind().engine.url)


class HotSQL:
    """One statement in the neutral form, rendered once for each database."""

    def __init__(self, text: str) -> None:
        if "%" in text:
            raise ValueError("hot SQL cannot hold '%' (psycopg reads it as a placeholder)")
        self.text = " ".join(text.split())
        self.lists = frozenset(match.group(2) for match in _LIST.finditer(self.text))
        self._rendered = {dialect: _render(self.text, dialect) for dialect in DIALECTS}

    def rendered(self, dialect: str) -> str:
        """The statement as the given database's driver takes it."""
        try:
            return self._rendered[dialect]
        except KeyError:
            raise RuntimeError(f"Parvis runs on SQLite or PostgreSQL, not {dialect}") from None

    def rows(self, source: Reader, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run the statement in the reader's transaction; every row as a tuple."""
        cursor = self._execute(source, params)
        try:
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
        finally:
            cursor.close()

    def write(self, session: Session, params: Mapping[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE in the session's transaction, without flushing the
        session first; returns how many rows it changed."""
        cursor = self._execute(session, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _execute(self, source: Reader, params: Mapping[str, Any]) -> Any:
        dbapi: Any
        if isinstance(source, ReadConnection):
            dialect, dbapi = source.dialect, source.dbapi
        else:
            connection = source.connection()
            dialect, dbapi = connection.dialect.name, connection.connection.driver_connection
        bound = dict(params)
        if dialect == "sqlite":
            for name, value in bound.items():
                if name in self.lists:
                    bound[name] = orjson.dumps(list(value)).decode()
                elif isinstance(value, datetime):
                    # Stored as naive UTC ISO text (SQLAlchemy's format): compared as text.
                    bound[name] = (
                        value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
                    )
        else:
            for name in self.lists:
                bound[name] = list(bound[name])
        return dbapi.execute(self.rendered(dialect), bound)


def utc(value: Any) -> datetime:
    """A timestamp column as a driver returns it (SQLite: naive ISO text; PostgreSQL: aware) as
    an aware UTC datetime, the way `storage.base.UTCDateTime` returns it."""
    if value.__class__ is str:
        return parse_stored_utc(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]


def optional_utc(value: Any) -> datetime | None:
    """`utc` for a nullable column."""
    return None if value is None else utc(value)
