"""Read markers: where a member stopped reading their home timeline and their notifications.

Mastodon apps save the newest item read and ask for it when they open, so a member who reads
on a phone and then on a laptop finds their place. A marker is only a position: saving one
for an id that names nothing is allowed (the item may have been deleted since), as Mastodon
does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.errors import InvalidInput
from parvis.social.models import ReadMarker
from parvis.storage.base import utcnow

TIMELINES = ("home", "notifications")


def markers(session: Session, user_id: int, timelines: Iterable[str]) -> list[ReadMarker]:
    """The member's saved markers among `timelines` (unknown names are ignored)."""
    wanted = [name for name in dict.fromkeys(timelines) if name in TIMELINES]
    if not wanted:
        return []
    return list(
        session.scalars(
            select(ReadMarker).where(ReadMarker.user_id == user_id, ReadMarker.timeline.in_(wanted))
        )
    )


def save(session: Session, user_id: int, positions: Mapping[str, int]) -> list[ReadMarker]:
    """Save the last item read in each named timeline; returns the markers saved."""
    unknown = sorted(set(positions) - set(TIMELINES))
    if unknown or not positions:
        raise InvalidInput(
            "Send the last item read as home[last_read_id] and/or "
            "notifications[last_read_id]"
            + (f" (not a timeline with markers: {', '.join(unknown)})." if unknown else ".")
        )
    saved = []
    for timeline, last_read_id in positions.items():
        marker = session.get(ReadMarker, (user_id, timeline))
        if marker is None:
            marker = ReadMarker(
                user_id=user_id, timeline=timeline, last_read_id=last_read_id, version=1
            )
            session.add(marker)
        else:
            marker.last_read_id = last_read_id
            marker.version += 1
        marker.updated_at = utcnow()
        saved.append(marker)
    session.flush()
    return saved
