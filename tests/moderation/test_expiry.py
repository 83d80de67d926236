"""Temporary restrictions end by themselves: the expiry loop lifts what is due, records each end
as a decision that supersedes the restriction, and tells the member."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import event, select

from parvis.accounts.models import User
from parvis.moderation import decisions, expiry
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import (
    Action,
    Automation,
    Decision,
    PostRestriction,
    Source,
    SubjectType,
)
from parvis.runtime import Runtime
from parvis.social import feeds
from parvis.social.feeds import PageQuery
from parvis.social.visibility import load_viewer
from parvis.storage.base import utcnow
from tests.conftest import MakeUser, outbox_messages
from tests.moderation.conftest import HARASSMENT


def _demote_for_a_day(runtime: Runtime, post_id: int) -> Decision:
    with runtime.db.session() as session:
        return decisions.decide(
            session,
            DecisionRequest(
                subject_type=SubjectType.POST,
                subject_key=str(post_id),
                action=Action.DEMOTE,
                rule=HARASSMENT,
                facts="Heated, demoted for a day.",
                source=Source.OWN_INITIATIVE,
                automated_detection=False,
                automated_decision=Automation.FULLY,
                duration=timedelta(days=1),
            ),
        )


def _public(runtime: Runtime) -> set[int]:
    with runtime.db.session() as session:
        return {p.id for p in feeds.public(session, load_viewer(session, None), PageQuery())}


def test_a_demotion_for_a_day_ends_and_the_end_is_a_decision(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    author = make_user("author")
    post_id = post_by(author, "a heated post")
    demotion = _demote_for_a_day(runtime, post_id)
    assert post_id not in _public(runtime)
    assert expiry.expire(runtime.db, runtime.services) == []  # not due yet
    (ended,) = expiry.expire(runtime.db, runtime.services, utcnow() + timedelta(days=1, minutes=1))
    assert post_id in _public(runtime)
    with runtime.db.session() as session:
        assert session.get(PostRestriction, post_id) is None
        record = session.get_one(Decision, ended)
        assert (record.action, record.supersedes_id, record.rule_id) == (
            "restore",
            demotion.id,
            "harassment",
        )
        assert f"decided in decision {demotion.id} reached its end date" in record.facts
    assert "an earlier restriction was lifted" in outbox_messages(runtime.settings)[-1]


def test_two_workers_expiring_at_once_record_one_end(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    """Every worker runs the loop: the one that finds the restriction already ended records
    nothing (no second "restore" decision)."""
    demotion = _demote_for_a_day(runtime, post_by(make_user("author"), "heated"))
    later = utcnow() + timedelta(days=2)
    if runtime.settings.is_sqlite:
        # SQLite serialises writers when they begin: run two at once and count the ends.
        ended: list[int] = []
        workers = [
            threading.Thread(
                target=lambda: ended.extend(expiry.expire(runtime.db, runtime.services, later))
            )
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(20)
        assert len(ended) == 1
    else:
        # PostgreSQL: right after this worker read the due decisions, another ends them and
        # commits; this worker's claim then finds the decision no longer in effect.
        slow = runtime.db._sessions()
        raced: list[int] = []

        def other_worker_ends_it(*_args: object) -> None:
            if not raced:
                raced.extend(expiry.expire(runtime.db, runtime.services, later))

        connection = slow.connection()
        event.listen(connection, "after_cursor_execute", other_worker_ends_it)
        try:
            assert decisions.expire_due(slow, later) == []
            slow.commit()
        finally:
            event.remove(connection, "after_cursor_execute", other_worker_ends_it)
            slow.close()
        assert len(raced) == 1
    with runtime.db.session() as session:
        ends = session.scalars(select(Decision).where(Decision.supersedes_id == demotion.id))
        assert len(list(ends)) == 1
