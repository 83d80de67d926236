"""What a moderation decision about a room does. Called only from `moderation.decisions`
(the one path that restricts anything), in the decision's transaction.

A room decision's subject key is `"<room id>"` (the decision ends the room) or
`"<room id>/<user id>"` (the decision removes that speaker and keeps them out). Connected
clients learn of it within `hub.SYNC_SECONDS`: every process re-reads the state of the rooms
it serves (see `live.hub.Hub.sync`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from parvis.errors import InvalidInput, NotFound
from parvis.live.models import Room, RoomParticipant, RoomRole, RoomState
from parvis.moderation.models import Decision
from parvis.moderation.reasons import ContentInfo
from parvis.storage.base import utcnow

AUDIO = ("CONTENT_TYPE_AUDIO",)


def parse_key(key: str) -> tuple[int, int | None]:
    """(room id, speaker id or None) from a room decision's subject key."""
    room_part, _, user_part = key.partition("/")
    try:
        return int(room_part), int(user_part) if user_part else None
    except ValueError as exc:
        raise InvalidInput("A room subject is '<room id>' or '<room id>/<user id>'.") from exc


def describe(session: Session, key: str) -> tuple[int | None, ContentInfo]:
    """The member a room decision affects (host or speaker) and what its statement says."""
    room_id, user_id = parse_key(key)
    room = session.get(Room, room_id)
    if room is None:
        raise NotFound("No such room.")
    started = (room.opened_at or room.created_at).date()
    if user_id is None:
        return room.host_id, ContentInfo(started, AUDIO)
    if session.get(RoomParticipant, (room_id, user_id)) is None and user_id != room.host_id:
        raise NotFound("This member has not taken part in the room.")
    return user_id, ContentInfo(started, AUDIO)


def apply(session: Session, decision: Decision) -> None:
    """Put a room decision in force: end the room, or remove and block the speaker."""
    room_id, user_id = parse_key(decision.subject_key)
    room = session.get_one(Room, room_id)
    now = utcnow()
    if user_id is None:
        if room.state in (RoomState.LIVE.value, RoomState.SCHEDULED.value):
            room.state = (
                RoomState.ENDED.value
                if room.state == RoomState.LIVE.value
                else RoomState.CANCELLED.value
            )
            room.ended_at = now
        room.ended_by_decision_id = decision.id
        return
    row = session.get(RoomParticipant, (room_id, user_id))
    if row is None:
        row = RoomParticipant(room_id=room_id, user_id=user_id, muted=False)
        session.add(row)
    row.role = RoomRole.LISTENER.value
    row.hand_raised_at = None
    row.removed = True
    row.blocked = True
    row.removed_by_decision_id = decision.id
    row.updated_at = now


def lift(session: Session, decision: Decision) -> None:
    """Undo a room decision's effect where it can be undone: a removed speaker may come back
    (as a listener); an ended room stays ended (its host can open a new one)."""
    room_id, user_id = parse_key(decision.subject_key)
    if user_id is None:
        return
    row = session.get(RoomParticipant, (room_id, user_id))
    if row is not None and row.removed_by_decision_id == decision.id:
        row.removed = False
        row.blocked = False
        row.removed_by_decision_id = None
        row.updated_at = utcnow()
