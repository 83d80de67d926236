"""Room chat, moderated like posts: the same Markdown subset and sanitising (`social.markup`),
the same account restrictions and blocked links (`moderation.enforcement`), and the same
inline detectors and rulebook. A chat line that a machine-applicable rule would remove at once
(e.g. doxxing) is refused before anyone sees it, naming the rule — as a blocked link is refused
in a new post — so nothing is restricted after the fact without a decision.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.errors import InvalidInput, PermissionDenied
from parvis.live.models import RoomChatMessage
from parvis.live.rooms import check_may_join, live_room
from parvis.moderation import enforcement, publication
from parvis.moderation.evaluate import evaluate
from parvis.moderation.signals import inline
from parvis.social import markup
from parvis.storage.base import utcnow

MAX_CHAT_CHARS = 500
REACTIONS = ("👏", "❤️", "😂", "😮", "👍", "🔥")


def post_message(session: Session, room_id: int, author: User, text: str) -> RoomChatMessage:
    """Store a chat line after the checks every post goes through; returns the stored line."""
    text = text.strip()
    if not text:
        raise InvalidInput("Write something first.", "text")
    if len(text) > MAX_CHAT_CHARS:
        raise InvalidInput(f"Chat messages: at most {MAX_CHAT_CHARS} characters.", "text")
    room = live_room(session, room_id)
    check_may_join(session, room, author.id)
    rendered = markup.render(text)
    enforcement.check_may_post(session, author.id, links=rendered.links, media=False, reply=False)
    enforcement.check_links_allowed(session, rendered.links)
    current = publication.in_force(session)
    if current is not None:
        version, rulebook = current
        for proposal in evaluate(rulebook, inline.detect(text)):
            if proposal.automatic and proposal.rule.post_action is not None:
                raise PermissionDenied(
                    f"This message was not sent: it appears to break the rule "
                    f"'{proposal.rule.id}' ({proposal.rule.title}, rulebook version {version})."
                )
    message = RoomChatMessage(
        room_id=room.id,
        author_id=author.id,
        body_source=text,
        body_html=rendered.html,
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def recent(session: Session, room_id: int, limit: int = 50) -> list[tuple[RoomChatMessage, str]]:
    """The latest chat lines with their authors' usernames, oldest first."""
    rows = session.execute(
        select(RoomChatMessage, User.username)
        .join(User, User.id == RoomChatMessage.author_id)
        .where(RoomChatMessage.room_id == room_id)
        .order_by(RoomChatMessage.id.desc())
        .limit(limit)
    ).all()
    return [(message, username) for message, username in reversed(rows)]


def check_reaction(reaction: str) -> str:
    """One of the offered reactions, or InvalidInput."""
    if reaction not in REACTIONS:
        raise InvalidInput("Choose one of the offered reactions.", "reaction")
    return reaction
