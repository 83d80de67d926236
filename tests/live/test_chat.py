"""Room chat is moderated like posts."""

from __future__ import annotations

import pytest

from parvis.accounts.models import User
from parvis.errors import PermissionDenied
from parvis.live import chat, rooms
from parvis.moderation import publication
from parvis.runtime import Runtime
from tests.conftest import MakeUser


def test_chat_is_rendered_safely_and_doxxing_is_refused(
    runtime: Runtime, make_user: MakeUser
) -> None:
    host, fan = make_user("hostess"), make_user("fan")
    with runtime.db.session() as session:
        publication.ensure_default(session)
        room_id = rooms.schedule_room(session, session.get_one(User, host.id), title="Live").id
    with runtime.db.session() as session:
        message = chat.post_message(
            session, room_id, session.get_one(User, fan.id), "**hi** <script>x</script> #live"
        )
        assert "<strong>hi</strong>" in message.body_html
        assert "<script>" not in message.body_html
        assert 'href="/tags/live"' in message.body_html
    with runtime.db.session() as session, pytest.raises(PermissionDenied, match="doxxing"):
        chat.post_message(
            session,
            room_id,
            session.get_one(User, fan.id),
            "Her SSN is 078-05-1121 and she lives at 1600 Pennsylvania Avenue NW, "
            "Washington, DC 20500",
        )
    with runtime.db.session() as session:
        assert [m.body_source for m, _ in chat.recent(session, room_id)] == [
            "**hi** <script>x</script> #live"
        ]
