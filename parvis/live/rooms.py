"""Room services: scheduling, opening and ending rooms, roles and what each role may do.

Every function takes a `Session`, checks permissions, and raises `parvis.errors`; the HTTP and
WebSocket layers call them and then tell connected clients (see `live.hub`). Moderators have no
shortcut here: they end a room or remove a speaker only through a decision citing a rule
(`moderation.decisions.decide` → `live.enforcement`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from parvis.live.models import Room, RoomParticipant, RoomRole, RoomState
from parvis.moderation import enforcement
from parvis.social import markup
from parvis.social.models import Follow, NotificationKind
from parvis.social.notifications import notify
from parvis.storage.base import utcnow

MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_SCHEDULE_AHEAD = timedelta(days=366)
# Allowed moves of a room's state; anything else is refused with a message saying why.
TRANSITIONS: dict[RoomState, frozenset[RoomState]] = {
    RoomState.SCHEDULED: frozenset({RoomState.LIVE, RoomState.CANCELLED}),
    RoomState.LIVE: frozenset({RoomState.ENDED}),
    RoomState.ENDED: frozenset(),
    RoomState.CANCELLED: frozenset(),
}
STAGE_ROLES = frozenset({RoomRole.HOST, RoomRole.COHOST, RoomRole.SPEAKER})
MANAGER_ROLES = frozenset({RoomRole.HOST, RoomRole.COHOST})


@dataclass(frozen=True)
class Standing:
    """What one person is in one room, read once per join or action."""

    user_id: int | None
    role: RoomRole
    muted: bool = False
    blocked: bool = False
    hand_raised: bool = False

    @property
    def on_stage(self) -> bool:
        """Host, co-host or speaker: may send audio (unless muted)."""
        return self.role in STAGE_ROLES

    @property
    def manages(self) -> bool:
        """Host or co-host: may promote, mute, remove and block."""
        return self.role in MANAGER_ROLES

    @property
    def may_speak(self) -> bool:
        """On stage and not muted by the host."""
        return self.on_stage and not self.muted


def get_room(session: Session, room_id: int) -> Room:
    """The room, or NotFound."""
    room = session.get(Room, room_id)
    if room is None:
        raise NotFound("No such room.")
    return room


def _move(room: Room, target: RoomState) -> None:
    current = RoomState(room.state)
    if target not in TRANSITIONS[current]:
        raise Conflict(f"This room is {current.value}; it cannot become {target.value}.")
    room.state = target.value
    now = utcnow()
    if target == RoomState.LIVE:
        room.opened_at = now
    elif target in (RoomState.ENDED, RoomState.CANCELLED):
        room.ended_at = now


def _participant(session: Session, room_id: int, user_id: int) -> RoomParticipant:
    row = session.get(RoomParticipant, (room_id, user_id))
    if row is None:
        row = RoomParticipant(
            room_id=room_id,
            user_id=user_id,
            role=RoomRole.LISTENER.value,
            muted=False,
            removed=False,
            blocked=False,
        )
        session.add(row)
    row.updated_at = utcnow()
    return row


def _notify_followers(session: Session, room: Room, kind: NotificationKind) -> None:
    follower_ids = session.scalars(
        select(Follow.follower_id).where(Follow.followee_id == room.host_id)
    )
    for follower_id in follower_ids:
        notify(session, recipient_id=follower_id, actor_id=room.host_id, kind=kind, room_id=room.id)


def schedule_room(
    session: Session,
    host: User,
    *,
    title: str,
    description: str = "",
    starts_at: datetime | None = None,
    recording: bool = False,
    now: datetime | None = None,
) -> Room:
    """Create a room: scheduled for `starts_at`, or opened at once when it is None.

    Followers are told (scheduled rooms now, and again when they start; instant rooms once)."""
    now = now or utcnow()
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("Give the room a title.", "title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"Title: at most {MAX_TITLE} characters.", "title")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"Description: at most {MAX_DESCRIPTION} characters.", "description")
    if starts_at is not None:
        if starts_at.tzinfo is None:
            raise InvalidInput("The start time needs a time zone.", "starts_at")
        if starts_at < now - timedelta(minutes=1):
            raise InvalidInput("The start time is in the past.", "starts_at")
        if starts_at > now + MAX_SCHEDULE_AHEAD:
            raise InvalidInput("Schedule at most a year ahead.", "starts_at")
    rendered = markup.render(description.strip()) if description.strip() else None
    enforcement.check_may_post(
        session, host.id, links=rendered.links if rendered else [], media=False, reply=False
    )
    if rendered:
        enforcement.check_links_allowed(session, rendered.links)
    room = Room(
        host_id=host.id,
        title=title,
        description=description.strip(),
        description_html=rendered.html if rendered else "",
        state=RoomState.SCHEDULED.value,
        scheduled_for=starts_at,
        recording=recording,
        created_at=now,
    )
    session.add(room)
    session.flush()
    host_row = _participant(session, room.id, host.id)
    host_row.role = RoomRole.HOST.value
    if starts_at is None:
        open_room(session, host, room.id)
    else:
        _notify_followers(session, room, NotificationKind.ROOM_SCHEDULED)
    return room


def open_room(session: Session, actor: User, room_id: int) -> Room:
    """The host (or a co-host) opens a scheduled room; followers hear it started."""
    room = get_room(session, room_id)
    if not standing(session, room, actor.id).manages:
        raise PermissionDenied("Only the host or a co-host can open this room.")
    enforcement.check_may_post(session, room.host_id, links=[], media=False, reply=False)
    _move(room, RoomState.LIVE)
    if room.reminded_at is None:
        room.reminded_at = utcnow()
        _notify_followers(session, room, NotificationKind.ROOM_LIVE)
    return room


def end_room(session: Session, actor: User, room_id: int) -> Room:
    """The host or a co-host ends a live room (or cancels a scheduled one)."""
    room = get_room(session, room_id)
    if not standing(session, room, actor.id).manages:
        if actor.is_moderator:
            raise PermissionDenied(
                "Moderators end rooms only by a decision citing a rule (report the room, then "
                "decide on the notice, or use the moderation form on the room page)."
            )
        raise PermissionDenied("Only the host or a co-host can end this room.")
    target = RoomState.CANCELLED if room.state == RoomState.SCHEDULED.value else RoomState.ENDED
    _move(room, target)
    return room


def send_due_reminders(session: Session, now: datetime | None = None) -> list[Room]:
    """Remind followers of scheduled rooms whose start time has come (once per room).

    Called by the background task of `parvis serve` (see `live.tasks`)."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(Room)
            .where(
                Room.state == RoomState.SCHEDULED.value,
                Room.scheduled_for.is_not(None),
                Room.scheduled_for <= now,
                Room.reminded_at.is_(None),
            )
            .with_for_update(skip_locked=True)
        )
    )
    for room in due:
        room.reminded_at = now
        _notify_followers(session, room, NotificationKind.ROOM_LIVE)
    return due


def standing(session: Session, room: Room, user_id: int | None) -> Standing:
    """The role and state of `user_id` in `room` (anonymous visitors are listeners)."""
    if user_id is None:
        return Standing(user_id=None, role=RoomRole.LISTENER)
    if user_id == room.host_id:
        return Standing(user_id=user_id, role=RoomRole.HOST)
    row = session.get(RoomParticipant, (room.id, user_id))
    if row is None:
        return Standing(user_id=user_id, role=RoomRole.LISTENER)
    return Standing(
        user_id=user_id,
        role=RoomRole(row.role),
        muted=row.muted,
        blocked=row.blocked,
        hand_raised=row.hand_raised_at is not None,
    )


def check_may_join(session: Session, room: Room, user_id: int | None) -> Standing:
    """Refuse a blocked member or a room that is not live; returns the joiner's standing."""
    if room.state != RoomState.LIVE.value:
        raise Conflict(
            "This room has not started yet."
            if room.state == RoomState.SCHEDULED.value
            else "This room has ended."
        )
    found = standing(session, room, user_id)
    if found.blocked:
        raise PermissionDenied("The host blocked you from this room.")
    return found


def live_room(session: Session, room_id: int) -> Room:
    room = get_room(session, room_id)
    if room.state != RoomState.LIVE.value:
        raise Conflict("This room is not live.")
    return room


def raise_hand(session: Session, room_id: int, user: User, *, raised: bool = True) -> None:
    """A listener asks to speak (or lowers their hand)."""
    room = live_room(session, room_id)
    found = check_may_join(session, room, user.id)
    if found.on_stage and raised:
        raise InvalidInput("You are already on stage.")
    row = _participant(session, room.id, user.id)
    row.hand_raised_at = utcnow() if raised else None


def raised_hands(session: Session, room_id: int) -> list[tuple[int, str]]:
    """(user id, username) of raised hands, oldest first."""
    rows = session.execute(
        select(RoomParticipant.user_id, User.username)
        .join(User, User.id == RoomParticipant.user_id)
        .where(RoomParticipant.room_id == room_id, RoomParticipant.hand_raised_at.is_not(None))
        .order_by(RoomParticipant.hand_raised_at)
    )
    return [(user_id, username) for user_id, username in rows]


def stage(session: Session, room_id: int) -> list[tuple[int, str, str, bool]]:
    """(user id, username, role, muted) of everyone on stage, host first."""
    room = get_room(session, room_id)
    host = session.get_one(User, room.host_id)
    result = [(host.id, host.username, RoomRole.HOST.value, False)]
    rows = session.execute(
        select(RoomParticipant.user_id, User.username, RoomParticipant.role, RoomParticipant.muted)
        .join(User, User.id == RoomParticipant.user_id)
        .where(
            RoomParticipant.room_id == room_id,
            RoomParticipant.role.in_([RoomRole.COHOST.value, RoomRole.SPEAKER.value]),
            RoomParticipant.user_id != room.host_id,
        )
        .order_by(RoomParticipant.role, User.username)
    )
    result += [(user_id, username, role, muted) for user_id, username, role, muted in rows]
    return result


def _manager(session: Session, room: Room, actor: User) -> Standing:
    found = standing(session, room, actor.id)
    if not found.manages:
        if actor.is_moderator:
            raise PermissionDenied(
                "Moderators remove speakers only by a decision citing a rule (use the "
                "moderation form on the room page)."
            )
        raise PermissionDenied("Only the host or a co-host can do this.")
    return found


def _target(session: Session, room: Room, actor_standing: Standing, user_id: int) -> Standing:
    if user_id == room.host_id:
        raise PermissionDenied("Nobody can change the host's standing in their own room.")
    target = standing(session, room, user_id)
    if target.role == RoomRole.COHOST and actor_standing.role != RoomRole.HOST:
        raise PermissionDenied("Only the host can act on a co-host.")
    if session.get(User, user_id) is None:
        raise NotFound("No such member.")
    return target


def set_role(session: Session, room_id: int, actor: User, user_id: int, role: RoomRole) -> None:
    """Invite or promote a member on stage (speaker, co-host) or send them back to listening.

    Host and co-hosts promote and demote speakers; only the host names co-hosts."""
    room = live_room(session, room_id)
    mine = _manager(session, room, actor)
    _target(session, room, mine, user_id)
    if role == RoomRole.HOST:
        raise PermissionDenied("A room has one host.")
    if role == RoomRole.COHOST and mine.role != RoomRole.HOST:
        raise PermissionDenied("Only the host can name co-hosts.")
    row = _participant(session, room.id, user_id)
    if row.blocked:
        raise Conflict("This member is blocked from the room; unblock them first.")
    row.role = role.value
    row.hand_raised_at = None
    row.removed = False


def set_muted(session: Session, room_id: int, actor: User, user_id: int, muted: bool) -> None:
    """The host or a co-host mutes (or unmutes) someone on stage."""
    room = live_room(session, room_id)
    mine = _manager(session, room, actor)
    _target(session, room, mine, user_id)
    row = _participant(session, room.id, user_id)
    row.muted = muted


def remove(session: Session, room_id: int, actor: User, user_id: int, *, block: bool) -> None:
    """Take someone out of the room now (back to listener, may return) or block them."""
    room = live_room(session, room_id)
    mine = _manager(session, room, actor)
    _target(session, room, mine, user_id)
    row = _participant(session, room.id, user_id)
    row.role = RoomRole.LISTENER.value
    row.hand_raised_at = None
    row.removed = True
    row.blocked = row.blocked or block


def unblock(session: Session, room_id: int, actor: User, user_id: int) -> None:
    """Let a blocked member back in."""
    room = get_room(session, room_id)
    mine = _manager(session, room, actor)
    _target(session, room, mine, user_id)
    row = _participant(session, room.id, user_id)
    row.blocked = False
    row.removed = False


def rooms_of(session: Session, host_id: int, limit: int = 10) -> list[Room]:
    """A host's live and upcoming rooms, then recent past ones (for their profile)."""
    return list(
        session.scalars(
            select(Room)
            .where(Room.host_id == host_id, Room.state != RoomState.CANCELLED.value)
            .order_by(Room.id.desc())
            .limit(limit)
        )
    )


def listing(session: Session, limit: int = 50) -> tuple[list[Room], list[Room]]:
    """Live rooms (newest first) and upcoming scheduled ones (soonest first)."""
    live = list(
        session.scalars(
            select(Room)
            .where(Room.state == RoomState.LIVE.value)
            .order_by(Room.opened_at.desc())
            .limit(limit)
        )
    )
    upcoming = list(
        session.scalars(
            select(Room)
            .where(Room.state == RoomState.SCHEDULED.value)
            .order_by(Room.scheduled_for)
            .limit(limit)
        )
    )
    return live, upcoming
