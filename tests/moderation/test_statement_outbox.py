"""Screening's statements of reasons are delivered once their decision has committed: the
decision row is the outbox (nothing is told inside the post's transaction, nothing is lost
when the process stops before delivering, and nothing is delivered twice), and the commit
wakes the delivery loop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from parvis.accounts.models import Role, User
from parvis.accounts.services import Services
from parvis.moderation import appeals, publication, services, statement_outbox
from parvis.moderation.models import Action, AppealState, Decision
from parvis.runtime import Runtime
from parvis.social import posts
from parvis.social.models import Notification, NotificationKind
from parvis.social.posts import PostDraft
from parvis.storage.base import utcnow
from parvis.storage.database import Database
from tests.conftest import MakeUser, outbox_messages
from tests.moderation.conftest import RemoveOnNotice, post_screened

DOXX = "Found him: John Roe, SSN 536-90-4399, lives at 1600 Pennsylvania Avenue."


def _post(runtime: Runtime, author: User, body: str = DOXX) -> int:
    return post_screened(runtime, author, body)


def _post_then_fail(runtime: Runtime, author: User) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
        me = session.get_one(User, author.id)
        posts.create_post(
            session, runtime.settings, me, PostDraft(body=DOXX), services=runtime.services
        )
        raise RuntimeError("the request failed after screening")


def _told(runtime: Runtime, user_id: int) -> list[int | None]:
    """The decisions the member's moderation notifications point to."""
    with runtime.db.session(read_only=True) as session:
        return list(
            session.scalars(
                select(Notification.decision_id).where(
                    Notification.user_id == user_id,
                    Notification.kind == NotificationKind.MODERATION.value,
                )
            )
        )


def _pending(runtime: Runtime) -> int:
    with runtime.db.session(read_only=True) as session:
        return (
            session.scalar(
                select(func.count()).select_from(Decision).where(Decision.statement_pending)
            )
            or 0
        )


def test_a_screening_decision_commits_pending_and_one_round_tells_the_member(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author = make_user("doxxer")
    post_id = _post(runtime, author)
    with runtime.db.session(read_only=True) as session:
        decision = session.scalars(select(Decision).where(Decision.subject_key == str(post_id)))
        decision_id = decision.one().id
    assert _told(runtime, author.id) == []  # not inside the post's transaction
    assert _pending(runtime) == 1

    delivered = REGISTRY.get_sample_value("parvis_statements_delivered_total") or 0
    assert statement_outbox.deliver_pending(runtime.db, runtime.services) == 1
    assert REGISTRY.get_sample_value("parvis_statements_delivered_total") == delivered + 1
    assert _told(runtime, author.id) == [decision_id]
    assert _pending(runtime) == 0
    mail = [m for m in outbox_messages(runtime.settings) if "doxxer@example.org" in m]
    assert len(mail) == 1
    assert f"Decision {decision_id}: your post was removed" in mail[0]

    # Delivered once: a second round (another worker's, say) finds nothing to do.
    assert statement_outbox.deliver_pending(runtime.db, runtime.services) == 0
    assert _told(runtime, author.id) == [decision_id]


def test_the_third_strike_suspends_the_account_once_the_statements_are_delivered(
    runtime: Runtime, make_user: MakeUser
) -> None:
    # Doxxing carries a strike; three within the window suspend (the default rulebook). The
    # escalation is counted with the statement, after the post's commit, and is itself a
    # decision citing the escalation rule, told at once.
    author = make_user("repeat")
    for street in ("Main Street", "Elm Street", "Oak Avenue"):
        _post(runtime, author, f"SSN 536-90-4399, he lives at 12 {street}.")
    with runtime.db.session(read_only=True) as session:
        suspended = select(Decision.rule_id).where(Decision.action == Action.SUSPEND.value)
        assert session.scalars(suspended).all() == []
    assert statement_outbox.deliver_all(runtime.db, runtime.services) == 3
    with runtime.db.session(read_only=True) as session:
        assert session.scalars(suspended).all() == ["escalation"]
    assert len(_told(runtime, author.id)) == 4  # three removals, then the suspension


def test_a_pending_statement_survives_a_restart_and_is_delivered_by_the_next_process(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author = make_user("doxxer")
    _post(runtime, author)
    runtime.db.dispose()  # the process stops before its loop ran
    restarted = Database(runtime.settings)
    try:
        assert statement_outbox.deliver_all(restarted, runtime.services) == 1
    finally:
        restarted.dispose()
    assert len(_told(runtime, author.id)) == 1


def test_a_rolled_back_post_leaves_nothing_to_deliver_and_wakes_nobody(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author = make_user("doxxer")
    woken: list[int] = []
    stop = statement_outbox.on_queued(runtime.db.engine, lambda: woken.append(1))
    try:
        with pytest.raises(RuntimeError):
            _post_then_fail(runtime, author)
        assert woken == []
        assert _pending(runtime) == 0

        _post(runtime, author)  # committed: the loop is woken, once
        assert woken == [1]
        _post(runtime, author, "An ordinary post.")  # no decision: no wake-up
        assert woken == [1]
    finally:
        stop()
    _post(runtime, author, DOXX + " Again.")
    assert woken == [1]  # stopped waking


def test_decisions_not_taken_by_screening_are_delivered_with_their_own_commit(
    runtime: Runtime, make_user: MakeUser, remove_on_notice: RemoveOnNotice
) -> None:
    # Only screening, whose author's request waits for it, defers: a decision taken on a
    # notice (or by a moderator, an expiry, an appeal's outcome) tells the member in the
    # transaction that makes it.
    author = make_user("poster")
    decision_id = remove_on_notice(_post(runtime, author, "A post someone reported."))
    assert _told(runtime, author.id) == [decision_id]
    assert _pending(runtime) == 0


def test_one_statement_that_fails_does_not_hold_back_the_others(
    runtime: Runtime, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = make_user("first"), make_user("second")
    _post(runtime, first)
    _post(runtime, second)
    deliver = services.deliver

    def fails_for_first(
        session: Session, given: Services, decision: Decision, *, catch_up: bool = True
    ) -> None:
        if decision.affected_user_id == first.id:
            raise RuntimeError("the template broke")
        deliver(session, given, decision, catch_up=catch_up)

    monkeypatch.setattr(services, "deliver", fails_for_first)
    now = [utcnow()]
    monkeypatch.setattr(statement_outbox, "_clock", lambda: now[0])
    failures = REGISTRY.get_sample_value("parvis_statement_delivery_failures_total") or 0
    assert statement_outbox.deliver_pending(runtime.db, runtime.services) == 1
    # Counted for operators on /metrics.
    assert REGISTRY.get_sample_value("parvis_statement_delivery_failures_total") == failures + 1
    assert _told(runtime, first.id) == []
    assert len(_told(runtime, second.id)) == 1
    assert _pending(runtime) == 1  # kept, for a later round
    assert REGISTRY.get_sample_value("parvis_statements_pending") == 1  # and shown waiting

    # Not tried again at once (a traceback every round, forever), but after a pause that
    # doubles with each failure.
    assert statement_outbox.deliver_pending(runtime.db, runtime.services) == 0
    assert REGISTRY.get_sample_value("parvis_statement_delivery_failures_total") == failures + 1
    now[0] += timedelta(seconds=statement_outbox.FIRST_RETRY_S)
    assert statement_outbox.deliver_pending(runtime.db, runtime.services) == 0  # tried: failed
    assert REGISTRY.get_sample_value("parvis_statement_delivery_failures_total") == failures + 2
    now[0] += timedelta(seconds=statement_outbox.FIRST_RETRY_S)
    assert statement_outbox.deliver_pending(runtime.db, runtime.services) == 0  # 2 s this time
    assert REGISTRY.get_sample_value("parvis_statement_delivery_failures_total") == failures + 2

    monkeypatch.setattr(services, "deliver", deliver)  # fixed
    now[0] += timedelta(seconds=statement_outbox.FIRST_RETRY_S)
    assert statement_outbox.deliver_pending(runtime.db, runtime.services) == 1
    assert len(_told(runtime, first.id)) == 1
    assert REGISTRY.get_sample_value("parvis_statements_pending") == 0


def test_the_wait_after_a_failure_holds_for_every_worker_and_after_a_restart(
    runtime: Runtime, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = make_user("doxxer")
    decision_id = _post(runtime, author)
    deliver = services.deliver

    def broken(
        session: Session, given: Services, decision: Decision, *, catch_up: bool = True
    ) -> None:
        raise RuntimeError("the template broke")

    monkeypatch.setattr(services, "deliver", broken)
    now = [utcnow()]
    monkeypatch.setattr(statement_outbox, "_clock", lambda: now[0])
    assert statement_outbox.deliver_pending(runtime.db, runtime.services) == 0
    monkeypatch.setattr(services, "deliver", deliver)  # fixed, but the wait still holds
    with runtime.db.session(read_only=True) as session:
        decision = session.get_one(Decision, decision_id)
        assert decision.statement_failures == 1
        assert decision.statement_retry_at == now[0] + statement_outbox.retry_pause(1)
    # Another worker, or this server restarted, keeps to the same wait.
    other = Database(runtime.settings)
    try:
        assert statement_outbox.deliver_pending(other, runtime.services) == 0
        now[0] += statement_outbox.retry_pause(1)
        assert statement_outbox.deliver_pending(other, runtime.services) == 1
    finally:
        other.dispose()
    assert _told(runtime, author.id) == [decision_id]


def test_the_wait_doubles_with_each_failure_up_to_ten_minutes() -> None:
    pauses = [statement_outbox.retry_pause(n).total_seconds() for n in (1, 2, 3, 11, 40)]
    assert pauses == [1.0, 2.0, 4.0, 600.0, 600.0]


def test_the_delivery_loop_finds_pending_statements_through_its_partial_index(
    runtime: Runtime,
) -> None:
    if not runtime.settings.is_sqlite:
        pytest.skip("SQLite's query plan")
    query = statement_outbox.PENDING.params(now=utcnow()).compile(
        runtime.db.engine, compile_kwargs={"literal_binds": True}
    )
    with runtime.db.session(read_only=True) as session:
        plan = session.execute(text(f"EXPLAIN QUERY PLAN {query}")).all()
    assert "USING INDEX ix_decisions_statement_pending" in str(plan)


def test_a_member_hears_of_a_pending_removal_before_its_reversal(
    runtime: Runtime, make_user: MakeUser
) -> None:
    # The automated removal's statement is still in the outbox (its loop has not run, or is
    # failing) when a moderator reverses it on appeal: the member is told of the removal
    # first, then of the reversal, each once.
    author = make_user("doxxer")
    moderator = make_user("second", role=Role.MODERATOR)
    _post(runtime, author)
    with runtime.db.session() as session:
        [removal] = session.scalars(select(Decision)).all()
        delivered = REGISTRY.get_sample_value("parvis_statements_delivered_total") or 0
        appeal = appeals.file_appeal(
            session, session.get_one(User, author.id), removal.id, "That is my own address."
        )
    with runtime.db.session() as session:
        reversal = appeals.decide_appeal(
            session, appeal.id, session.get_one(User, moderator.id),
            outcome=AppealState.REVERSED, facts="The member published their own address.",
        )  # fmt: skip
        services.deliver(session, runtime.services, reversal)
    assert _told(runtime, author.id) == [removal.id, reversal.id]
    assert _pending(runtime) == 0
    # The removal's statement, caught up, counts as delivered; the reversal's is no outbox's.
    assert REGISTRY.get_sample_value("parvis_statements_delivered_total") == delivered + 1
    assert statement_outbox.deliver_pending(runtime.db, runtime.services) == 0
    mail = [m for m in outbox_messages(runtime.settings) if "doxxer@example.org" in m]
    assert [f"Decision {removal.id}:" in m for m in mail] == [True, False]


def test_an_earlier_statement_that_fails_to_deliver_does_not_fail_the_later_decision(
    runtime: Runtime,
    make_user: MakeUser,
    remove_on_notice: RemoveOnNotice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The catch-up runs in the transaction of someone else's decision (here a removal on a
    # notice): a broken earlier statement stays in the outbox for the loop, and the decision
    # and its own statement go through.
    author = make_user("doxxer")
    _post(runtime, author)
    deliver = services.deliver

    def fails_when_caught_up(
        session: Session, given: Services, decision: Decision, *, catch_up: bool = True
    ) -> None:
        if not catch_up:
            raise RuntimeError("the template broke")
        deliver(session, given, decision, catch_up=catch_up)

    monkeypatch.setattr(services, "deliver", fails_when_caught_up)
    later = remove_on_notice(_post(runtime, author, "A post someone reported."))
    assert _told(runtime, author.id) == [later]
    assert _pending(runtime) == 1
