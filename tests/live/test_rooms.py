"""Room services: scheduling, notifications and reminders, roles and what each may do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from parvis.accounts.models import Role, User
from parvis.errors import Conflict, InvalidInput, PermissionDenied
from parvis.live import rooms
from parvis.live.models import RoomRole, RoomState
from parvis.runtime import Runtime
from parvis.social import graph
from parvis.social.models import Notification
from parvis.storage.base import utcnow
from tests.conftest import MakeUser


def _load(session: Session, user: User) -> User:
    return session.get_one(User, user.id)


def test_scheduling_tells_followers_and_reminds_them_once_at_start(
    runtime: Runtime, make_user: MakeUser
) -> None:
    host, fan = make_user("hostess"), make_user("fan")
    with runtime.db.session() as session:
        graph.follow(session, _load(session, fan), _load(session, host))
    start = utcnow() + timedelta(hours=1)
    with runtime.db.session() as session:
        room = rooms.schedule_room(
            session, _load(session, host), title="Interview", starts_at=start
        )
        room_id = room.id
        assert room.state == RoomState.SCHEDULED.value
    with runtime.db.session() as session:
        assert rooms.send_due_reminders(session) == []  # not yet
        due = rooms.send_due_reminders(session, now=start + timedelta(seconds=1))
        assert [r.id for r in due] == [room_id]
        assert rooms.send_due_reminders(session, now=start + timedelta(minutes=5)) == []
        kinds = [
            (n.kind, n.room_id)
            for n in session.query(Notification).filter_by(user_id=fan.id).order_by(Notification.id)
        ]
    assert kinds == [("room_scheduled", room_id), ("room_live", room_id)]


def test_open_now_goes_live_and_only_the_host_may_end(
    runtime: Runtime, make_user: MakeUser
) -> None:
    host, other, mod = (
        make_user("hostess"),
        make_user("other"),
        make_user("mod", role=Role.MODERATOR),
    )
    with runtime.db.session() as session:
        room = rooms.schedule_room(session, _load(session, host), title="Now")
        room_id = room.id
        assert room.state == RoomState.LIVE.value
        assert room.opened_at is not None
    with runtime.db.session() as session:
        with pytest.raises(PermissionDenied):
            rooms.end_room(session, _load(session, other), room_id)
        with pytest.raises(PermissionDenied, match="decision citing a rule"):
            rooms.end_room(session, _load(session, mod), room_id)
        assert rooms.end_room(session, _load(session, host), room_id).state == RoomState.ENDED.value
    with runtime.db.session() as session, pytest.raises(Conflict):
        rooms.open_room(session, _load(session, host), room_id)


def test_bad_schedules_are_refused_with_the_field(runtime: Runtime, make_user: MakeUser) -> None:
    host = make_user("hostess")
    with runtime.db.session() as session:
        me = _load(session, host)
        with pytest.raises(InvalidInput) as empty:
            rooms.schedule_room(session, me, title="  ")
        assert empty.value.field == "title"
        with pytest.raises(InvalidInput) as past:
            rooms.schedule_room(session, me, title="x", starts_at=utcnow() - timedelta(hours=2))
        assert past.value.field == "starts_at"


def test_roles_hands_mute_remove_and_block(runtime: Runtime, make_user: MakeUser) -> None:
    host, co, fan, other = (make_user(n) for n in ("hostess", "cohost", "fan", "other"))
    with runtime.db.session() as session:
        room_id = rooms.schedule_room(session, _load(session, host), title="Talk").id
    with runtime.db.session() as session:
        rooms.raise_hand(session, room_id, _load(session, fan))
        rooms.raise_hand(session, room_id, _load(session, other))
    with runtime.db.session() as session:
        assert [name for _, name in rooms.raised_hands(session, room_id)] == ["fan", "other"]
        # A listener cannot promote anyone; the host names a co-host.
        with pytest.raises(PermissionDenied):
            rooms.set_role(session, room_id, _load(session, other), fan.id, RoomRole.SPEAKER)
        rooms.set_role(session, room_id, _load(session, host), co.id, RoomRole.COHOST)
    with runtime.db.session() as session:
        # The co-host promotes a raised hand, but cannot name co-hosts or touch the host.
        rooms.set_role(session, room_id, _load(session, co), fan.id, RoomRole.SPEAKER)
        with pytest.raises(PermissionDenied):
            rooms.set_role(session, room_id, _load(session, co), other.id, RoomRole.COHOST)
        with pytest.raises(PermissionDenied):
            rooms.set_muted(session, room_id, _load(session, co), host.id, True)
    with runtime.db.session() as session:
        room = rooms.get_room(session, room_id)
        fan_standing = rooms.standing(session, room, fan.id)
        assert fan_standing.may_speak
        assert not fan_standing.hand_raised
        assert [name for _, name in rooms.raised_hands(session, room_id)] == ["other"]
        rooms.set_muted(session, room_id, _load(session, host), fan.id, True)
    with runtime.db.session() as session:
        room = rooms.get_room(session, room_id)
        assert not rooms.standing(session, room, fan.id).may_speak
        rooms.remove(session, room_id, _load(session, host), fan.id, block=False)
        rooms.remove(session, room_id, _load(session, host), other.id, block=True)
    with runtime.db.session() as session:
        room = rooms.get_room(session, room_id)
        assert rooms.check_may_join(session, room, fan.id).role == RoomRole.LISTENER
        with pytest.raises(PermissionDenied, match="blocked"):
            rooms.check_may_join(session, room, other.id)
        with pytest.raises(PermissionDenied):
            rooms.remove(session, room_id, _load(session, fan), host.id, block=True)
        rooms.unblock(session, room_id, _load(session, host), other.id)
    with runtime.db.session() as session:
        room = rooms.get_room(session, room_id)
        assert rooms.check_may_join(session, room, other.id).role == RoomRole.LISTENER
