"""Moderators end rooms and remove speakers only by a decision citing a rule."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from parvis.accounts.models import Role, User
from parvis.errors import InvalidInput
from parvis.live import rooms
from parvis.live.models import RoomParticipant, RoomRole, RoomState
from parvis.moderation import notices, publication
from parvis.moderation.decisions import DecisionRequest, decide
from parvis.moderation.models import Action, Automation, Source, SubjectType
from parvis.runtime import Runtime
from tests.conftest import MakeUser


def _request(
    session: Session, key: str, moderator_id: int, action: Action = Action.REMOVE
) -> DecisionRequest:
    publication.ensure_default(session)
    row = publication.get_version(session)
    rule = publication.parsed(row).rule("harassment")
    return DecisionRequest(
        subject_type=SubjectType.ROOM,
        subject_key=key,
        action=action,
        rule=rule.info(row.version),
        facts="The host harassed a named member on air for ten minutes.",
        source=Source.OWN_INITIATIVE,
        automated_detection=False,
        automated_decision=Automation.NOT_AUTOMATED,
        decided_by_id=moderator_id,
    )


def test_a_decision_ends_the_room_with_a_statement_of_reasons(
    runtime: Runtime, make_user: MakeUser
) -> None:
    host, mod = make_user("hostess"), make_user("mod", role=Role.MODERATOR)
    with runtime.db.session() as session:
        room_id = rooms.schedule_room(session, session.get_one(User, host.id), title="Live").id
    with runtime.db.session() as session:
        decision = decide(session, _request(session, str(room_id), mod.id))
        decision_id = decision.id
        assert decision.affected_user_id == host.id
        statement = json.loads(decision.statement_json)
        assert statement["content_type"] == ["CONTENT_TYPE_AUDIO"]
        assert statement["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    with runtime.db.session() as session:
        room = rooms.get_room(session, room_id)
        assert room.state == RoomState.ENDED.value
        assert room.ended_by_decision_id == decision_id


def test_a_decision_removes_a_speaker_and_reversal_lets_them_back(
    runtime: Runtime, make_user: MakeUser
) -> None:
    host, speaker = make_user("hostess"), make_user("speaker")
    mod = make_user("mod", role=Role.MODERATOR)
    with runtime.db.session() as session:
        room_id = rooms.schedule_room(session, session.get_one(User, host.id), title="Live").id
        rooms.set_role(
            session, room_id, session.get_one(User, host.id), speaker.id, RoomRole.SPEAKER
        )
    with runtime.db.session() as session:
        removal = decide(session, _request(session, f"{room_id}/{speaker.id}", mod.id))
        removal_id = removal.id
        assert removal.affected_user_id == speaker.id
    with runtime.db.session() as session:
        row = session.get_one(RoomParticipant, (room_id, speaker.id))
        assert (row.role, row.blocked, row.removed_by_decision_id) == ("listener", True, removal_id)
    with runtime.db.session() as session:
        restore = _request(session, f"{room_id}/{speaker.id}", mod.id, Action.RESTORE)
        restore.supersedes_id = removal_id
        decide(session, restore)
    with runtime.db.session() as session:
        room = rooms.get_room(session, room_id)
        assert not rooms.check_may_join(session, room, speaker.id).blocked


def test_rooms_accept_only_removal(runtime: Runtime, make_user: MakeUser) -> None:
    host, mod = make_user("hostess"), make_user("mod", role=Role.MODERATOR)
    with runtime.db.session() as session:
        room_id = rooms.schedule_room(session, session.get_one(User, host.id), title="Live").id
    with runtime.db.session() as session, pytest.raises(InvalidInput):
        decide(session, _request(session, str(room_id), mod.id, Action.LABEL))


def test_a_room_address_is_reported_as_a_room(runtime: Runtime, make_user: MakeUser) -> None:
    host = make_user("hostess")
    with runtime.db.session() as session:
        room_id = rooms.schedule_room(session, session.get_one(User, host.id), title="Live").id
    with runtime.db.session() as session:
        subject = notices.resolve_location(
            session, "http://testserver", f"http://testserver/live/rooms/{room_id}"
        )
    assert subject == (SubjectType.ROOM, str(room_id))
