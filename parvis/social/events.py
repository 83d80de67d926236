"""Events of the social write path, announced after their transaction commits.

The write path calls `emit()`; nothing is announced until the unit of work commits, and
nothing at all if it rolls back, so listeners never see a post that does not exist. Listeners
(the API's streaming, for one) register a hook here: `social` never imports them.
"""

from __future__ import annotations

import enum
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("parvis.social.events")
_PENDING = "parvis_social_events"


class EventKind(enum.StrEnum):
    """What happened."""

    POST_CREATED = "post.created"  # a post, reply, quote, article or repost row
    POST_UPDATED = "post.updated"
    POST_DELETED = "post.deleted"
    NOTIFICATION_CREATED = "notification.created"


@dataclass(frozen=True)
class SocialEvent:
    """One committed change: which post or notification (ids only; listeners load what they
    show, as their reader may see it). `database` names the database it happened in."""

    kind: EventKind
    database: str
    post_id: int | None = None
    author_id: int | None = None
    notification_id: int | None = None
    recipient_id: int | None = None


@dataclass(frozen=True)
class WrittenNotification:
    """A notification written without an ORM object (`storage.direct.insert_values`), as
    `emit` takes it."""

    id: int
    user_id: int


Hook = Callable[[SocialEvent], None]
# Weak references: a hook goes away with the object that registered it (an app in a test).
_hooks: list[weakref.WeakMethod[Hook] | Callable[[], Hook | None]] = []


def register(hook: Hook) -> None:
    """Call `hook` with every committed event (held weakly when it is a bound method)."""
    if hasattr(hook, "__self__"):
        _hooks.append(weakref.WeakMethod(hook))
    else:
        _hooks.append(lambda: hook)


def emit(session: Session, kind: EventKind, row: Any) -> None:
    """Announce a change to a post or notification row once `session` commits. The row's id
    may not be assigned yet; it is read at commit time."""
    session.info.setdefault(_PENDING, []).append((kind, row))


def _event(kind: EventKind, row: Any, database: str) -> SocialEvent:
    if kind == EventKind.NOTIFICATION_CREATED:
        return SocialEvent(kind, database, notification_id=row.id, recipient_id=row.user_id)
    return SocialEvent(kind, database, post_id=row.id, author_id=row.author_id)


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending or not _hooks:
        return
    bind = session.get_bind()
    database = bind.engine.url.render_as_string(hide_password=True)
    events = [_event(kind, row, database) for kind, row in pending]
    for ref in list(_hooks):
        hook = ref()
        if hook is None:
            _hooks.remove(ref)
            continue
        for item in events:
            try:
                hook(item)
            except Exception:  # a listener's failure must not fail the writer's request
                log.exception("social event hook failed for %s", item.kind)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
