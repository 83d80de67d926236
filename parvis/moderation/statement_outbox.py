"""Statements of reasons delivered just after their decision commits, not inside it.

Screening decides inline, in the transaction of the post it removes, and the author's request
waits for it. Telling the member (the notification, the e-mail's text and its outbox row) and
counting the decision's strike towards a suspension (`strikes.escalate`, itself a decision
when the threshold is reached) were a fifth of such a decision's cost, and nothing in the
request needs them: so screening's decisions are written with `Decision.statement_pending`
set, and the decision row is the outbox of both. It exists exactly when the decision does
(same INSERT: no extra write), survives a crash, and a loop the server runs
(`deliver_pending`) delivers it, a batch to a transaction: woken by the commit itself, so the
member is told at once, or on its next round after a restart.

Several workers share the outbox: a delivery clears the marks with a guarded UPDATE in the
transaction that writes the notifications and e-mails, so exactly one of them delivers each
(PostgreSQL makes the second wait for the first's row locks, then finds the marks gone).
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable, Sequence
from datetime import timedelta

from prometheus_client import Counter, Gauge
from sqlalchemy import ColumnElement, Engine, bindparam, event, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from parvis.accounts.models import User
from parvis.accounts.services import Services
from parvis.moderation.models import STATEMENT_PENDING, Decision
from parvis.storage.base import UTCDateTime, utcnow
from parvis.storage.database import Database

log = logging.getLogger(__name__)
BATCH = 50
LOOP_NAME = "statements"
_QUEUED = "parvis_statements_queued"

# On /metrics with the rest: a failure count that keeps growing is a statement members are
# not being told.
DELIVERED = Counter(
    "parvis_statements_delivered_total",
    "Statements of reasons of screening's decisions delivered after commit by this process "
    "(by its delivery loop, or caught up ahead of a later decision's statement).",
)
FAILED = Counter(
    "parvis_statement_delivery_failures_total",
    "Deliveries of a statement of reasons that failed (each is retried later, waiting longer "
    "after each failure).",
)
WAITING = Gauge(
    "parvis_statements_pending",
    "Statements of reasons waiting in the outbox after this process's last delivery round.",
)

# Per database, what wakes its delivery loops (an app removes its own at shutdown).
_wakers: weakref.WeakKeyDictionary[Engine, list[Callable[[], None]]] = weakref.WeakKeyDictionary()

# A statement whose delivery failed (a bug, a broken template) waits before it is tried again,
# 1 s after its first failure, doubling up to 10 minutes: retried every round, it logged a
# traceback twice a second, forever, and made every round deliver its batch twice. The wait is
# kept on the decision row (`statement_failures`, `statement_retry_at`), so that every worker
# keeps to it and a restarted server does not try at once.
FIRST_RETRY_S = 1.0
LAST_RETRY_S = 600.0
_clock = utcnow


# Through the partial index of pending decisions, however many decisions there are.
PENDING = (
    select(Decision.id)
    .where(
        STATEMENT_PENDING,
        or_(
            Decision.statement_retry_at.is_(None),
            Decision.statement_retry_at <= bindparam("now", type_=UTCDateTime()),
        ),
    )
    .order_by(Decision.id)
    .limit(BATCH)
)
LEFT = select(func.count()).select_from(Decision).where(STATEMENT_PENDING)


def retry_pause(failures: int) -> timedelta:
    """How long a statement waits after its `failures`-th failed delivery."""
    return timedelta(seconds=min(LAST_RETRY_S, FIRST_RETRY_S * 2 ** (failures - 1)))


def mark_queued(session: Session) -> None:
    """Note that `session` wrote a decision whose statement is pending, so that its commit
    wakes the delivery loop."""
    session.info[_QUEUED] = True


def on_queued(engine: Engine, wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` (from the committing thread) whenever a transaction on `engine` that
    queued a statement commits; returns what stops it (call it at shutdown)."""
    _wakers.setdefault(engine, []).append(wake)

    def stop() -> None:
        with contextlib.suppress(KeyError, ValueError):
            _wakers[engine].remove(wake)

    return stop


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if not session.info.pop(_QUEUED, False):
        return
    for wake in list(_wakers.get(session.get_bind().engine, ())):
        try:
            wake()
        except Exception:  # the loop's next round delivers anyway
            log.exception("waking the statement delivery loop failed")


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_QUEUED, None)


def _claim(session: Session, *conditions: ColumnElement[bool]) -> list[int]:
    """Clear the pending mark of the decisions matching `conditions`; the ids this call
    cleared (what another worker claimed first is not among them)."""
    return list(
        session.scalars(
            update(Decision)
            .where(STATEMENT_PENDING, *conditions)
            .values(statement_pending=False)
            .returning(Decision.id),
            execution_options={"synchronize_session": False},
        ).all()
    )


def _deliver_guarded(session: Session, services: Services, decision: Decision) -> bool:
    """Deliver one claimed statement in a savepoint; whether it went. One that fails leaves
    nothing behind, is logged and counted, and is marked pending again."""
    # Imported here: `services` (the decision path) imports this module to queue deliveries.
    from parvis.moderation.services import deliver
    from parvis.moderation.strikes import escalate

    try:
        with session.begin_nested():
            deliver(session, services, decision, catch_up=False)
            escalate(session, services, decision)
    except Exception:
        log.exception("delivering the statement of decision %s failed", decision.id)
        FAILED.inc()
        failures = (decision.statement_failures or 0) + 1
        retry_at = _clock() + retry_pause(failures)
        session.execute(
            update(Decision)
            .where(Decision.id == decision.id)
            .values(
                statement_pending=True, statement_failures=failures, statement_retry_at=retry_at
            ),
            execution_options={"synchronize_session": False},
        )
        set_committed_value(decision, "statement_failures", failures)
        set_committed_value(decision, "statement_retry_at", retry_at)
        return False
    return True


def deliver_earlier(session: Session, services: Services, member_id: int, before_id: int) -> None:
    """Deliver first, oldest first, the member's pending statements of decisions taken before
    `before_id`: a member told of a decision now (say, the reversal of an automated removal)
    must have been told of those. In the caller's transaction; one that fails stays pending
    for the loop and does not fail the caller."""
    for decision_id in sorted(
        _claim(session, Decision.affected_user_id == member_id, Decision.id < before_id)
    ):
        decision = session.get_one(Decision, decision_id)
        set_committed_value(decision, "statement_pending", False)  # may be loaded, stale
        if _deliver_guarded(session, services, decision):
            # Counted before the caller commits, as the loop counts its own: a rollback
            # (rare: the caller's decision failed) leaves the statement to the loop, which
            # counts it again.
            DELIVERED.inc()
        else:
            set_committed_value(decision, "statement_pending", True)


def deliver_pending(db: Database, services: Services) -> int:
    """Deliver the statements still pending (a batch at most), oldest first, in one
    transaction, but not one waiting after its delivery failed; returns how many this call
    delivered."""
    with db.session(read_only=True) as session:  # most rounds find nothing: no write lock
        pending = list(session.scalars(PENDING, {"now": _clock()}).all())
        if not pending:  # none, or only some waiting to be tried again
            WAITING.set(session.scalar(LEFT) or 0)
            return 0
    try:
        delivered = _deliver(db, services, pending, one_by_one=False)
    except Exception:
        # Something in the batch failed and all of it rolled back: again, each statement on
        # its own, so that only the failing one waits.
        delivered = _deliver(db, services, pending, one_by_one=True)
    with db.session(read_only=True) as session:
        WAITING.set(session.scalar(LEFT) or 0)
    return delivered


def _deliver(db: Database, services: Services, pending: Sequence[int], *, one_by_one: bool) -> int:
    """Deliver what of `pending` no other worker has claimed; returns how many were delivered
    (those that failed are marked pending again, with their next try)."""
    # Imported here: `services` (the decision path) imports this module to queue deliveries.
    from parvis.moderation.services import deliver
    from parvis.moderation.strikes import escalate

    failed: list[int] = []
    with db.session() as session:
        claimed = _claim(session, Decision.id.in_(pending))
        if not claimed:
            return 0
        batch = session.scalars(
            select(Decision).where(Decision.id.in_(claimed)).order_by(Decision.id)
        ).all()
        # Read in one query, and held here so that the session's (weak) identity map keeps
        # them for `deliver`'s look-ups.
        wanted = {d.affected_user_id for d in batch} - {None}
        members = session.scalars(select(User).where(User.id.in_(wanted))).all()
        for decision in batch:
            # A member's earlier pending statements are ahead in this batch, but for one
            # waiting after it failed: the later ones are not held back for it.
            if not one_by_one:  # a savepoint each would double the cost of a delivery
                deliver(session, services, decision, catch_up=False)
                escalate(session, services, decision)
            elif not _deliver_guarded(session, services, decision):
                failed.append(decision.id)
        del members
    DELIVERED.inc(len(claimed) - len(failed))
    return len(claimed) - len(failed)


def deliver_all(db: Database, services: Services) -> int:
    """Deliver every pending statement now (for commands and tests that run no server)."""
    total = 0
    while batch := deliver_pending(db, services):
        total += batch
    return total
