"""Units of work on SQLite wait for each other instead of failing: two members writing at the
same moment both succeed."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, update

from parvis.accounts.models import User
from parvis.runtime import Runtime
from tests.conftest import MakeUser


def test_concurrent_units_of_work_that_read_then_write_both_commit(
    runtime: Runtime, make_user: MakeUser
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    failures: list[BaseException] = []
    first_has_read = threading.Event()

    def write(user_id: int, name: str, pause: float, signal: threading.Event | None) -> None:
        try:
            with runtime.db.session() as session:
                session.scalars(select(User).where(User.id == user_id)).one()  # read first
                if signal is not None:
                    signal.set()
                time.sleep(pause)  # the other writer commits meanwhile (or waits for us)
                session.execute(update(User).where(User.id == user_id).values(display_name=name))
        except BaseException as failure:
            failures.append(failure)

    slow = threading.Thread(target=write, args=(ana.id, "Ana", 0.3, first_has_read))
    slow.start()
    first_has_read.wait(5)
    quick = threading.Thread(target=write, args=(bob.id, "Bob", 0.0, None))
    quick.start()
    slow.join(10)
    quick.join(10)
    assert failures == []
    with runtime.db.session() as session:
        names = {
            row[0]: row[1] for row in session.execute(select(User.username, User.display_name))
        }
    assert (names["ana"], names["bob"]) == ("Ana", "Bob")
