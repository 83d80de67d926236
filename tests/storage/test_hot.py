"""Hot SQL runs the same on SQLite and PostgreSQL, through a session or a bare read
transaction, with lists, timestamps and driver types handled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from parvis.accounts.models import User
from parvis.runtime import Runtime
from parvis.storage.hot import HotSQL, optional_utc, utc
from tests.conftest import MakeUser

USERS = HotSQL(
    "SELECT id, username, created_at FROM users WHERE id IN LIST(:ids) AND created_at < :before"
    " ORDER BY id"
)
OTHERS = HotSQL("SELECT id FROM users WHERE id NOT IN LIST(:ids) ORDER BY id")


def test_lists_and_times_bind_on_every_database(runtime: Runtime, make_user: MakeUser) -> None:
    ana, bob, eve = make_user("ana"), make_user("bob"), make_user("eve")
    later = datetime.now(UTC) + timedelta(minutes=1)
    with runtime.db.read() as db:
        rows = USERS.rows(db, {"ids": [ana.id, eve.id], "before": later})
        assert [(row[0], row[1]) for row in rows] == [(ana.id, "ana"), (eve.id, "eve")]
        assert utc(rows[0][2]).tzinfo is UTC
        assert [row[0] for row in OTHERS.rows(db, {"ids": [ana.id]})] == [bob.id, eve.id]
    with runtime.db.session() as session:  # the same statement inside a unit of work
        assert USERS.rows(session, {"ids": [], "before": later}) == []


def test_a_read_transaction_sees_one_snapshot(runtime: Runtime, make_user: MakeUser) -> None:
    ana = make_user("ana")
    names = HotSQL("SELECT display_name FROM users WHERE id = :id")
    with runtime.db.read() as db:
        before = names.rows(db, {"id": ana.id})
        with runtime.db.session() as session:
            session.execute(update(User).where(User.id == ana.id).values(display_name="Ana B"))
        assert names.rows(db, {"id": ana.id}) == before
    with runtime.db.read() as db:
        assert names.rows(db, {"id": ana.id}) == [("Ana B",)]


def test_a_write_runs_in_the_session_transaction_and_counts_its_rows(
    runtime: Runtime, make_user: MakeUser
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    rename = HotSQL("UPDATE users SET display_name = :name WHERE id IN LIST(:ids)")
    names = HotSQL("SELECT display_name FROM users WHERE id = :id")
    with runtime.db.session() as session:
        assert rename.write(session, {"name": "Renamed", "ids": [ana.id, bob.id]}) == 2
        session.rollback()  # the write belongs to the session's transaction
    with runtime.db.session() as session:
        assert names.rows(session, {"id": ana.id}) != [("Renamed",)]
        assert rename.write(session, {"name": "Renamed", "ids": [ana.id]}) == 1
    with runtime.db.read() as db:
        assert names.rows(db, {"id": ana.id}) == [("Renamed",)]
        assert names.rows(db, {"id": bob.id}) != [("Renamed",)]


def test_percent_signs_are_refused_when_written() -> None:
    with pytest.raises(ValueError, match="%"):
        HotSQL("SELECT id FROM users WHERE username LIKE 'a%'")


def test_driver_timestamps_become_aware_utc() -> None:
    assert utc("2026-01-02 03:04:05.000006") == datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    aware = datetime(2026, 1, 2, 4, 4, 5, tzinfo=UTC).astimezone()
    assert utc(aware) == datetime(2026, 1, 2, 4, 4, 5, tzinfo=UTC)
    assert optional_utc(None) is None


def test_stored_text_in_every_form_reads_as_utc() -> None:
    from parvis.storage.base import parse_stored_utc

    assert parse_stored_utc("2025-12-14 05:20:00+02:00") == datetime(
        2025, 12, 14, 3, 20, tzinfo=UTC
    )
    assert parse_stored_utc("2025-12-14") == datetime(2025, 12, 14, tzinfo=UTC)
    assert parse_stored_utc("2025-12-14 05:20:00.000001").tzinfo is UTC


def test_reads_nest_and_run_from_threads_and_the_event_loop(
    runtime: Runtime, make_user: MakeUser
) -> None:
    import asyncio
    import threading

    ana = make_user("ana")
    names = HotSQL("SELECT username FROM users WHERE id = :id")

    def read_twice() -> list[object]:
        with runtime.db.read() as outer:
            with runtime.db.read() as inner:  # nested: its own connection and snapshot
                assert inner.dbapi is not outer.dbapi
                found = names.rows(inner, {"id": ana.id})
            return [*names.rows(outer, {"id": ana.id}), *found]

    async def on_loop() -> list[object]:
        first = read_twice()
        return [*first, *read_twice()]  # the loop thread's connection is reused

    assert asyncio.run(on_loop()) == [("ana",)] * 4
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.extend(read_twice()))
    worker.start()
    worker.join()
    assert seen == [("ana",), ("ana",)]


def test_sqlite_index_hints_are_kept_on_sqlite_only() -> None:
    hinted = HotSQL("SELECT id FROM posts SQLITE INDEX(ix_posts_kind_id) WHERE kind = :kind")
    assert "INDEXED BY ix_posts_kind_id" in hinted.rendered("sqlite")
    assert hinted.rendered("postgresql") == "SELECT id FROM posts WHERE kind = %(kind)s"
