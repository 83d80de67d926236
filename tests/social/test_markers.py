"""Read markers: saved per member and timeline, counted, and never mixed between members."""

from __future__ import annotations

import pytest

from parvis.errors import InvalidInput
from parvis.runtime import Runtime
from parvis.social import markers
from tests.conftest import MakeUser


def test_a_save_moves_the_marker_and_counts_the_version(
    runtime: Runtime, make_user: MakeUser
) -> None:
    ana, bob = make_user("ana"), make_user("bob")
    with runtime.db.session() as session:
        markers.save(session, ana.id, {"home": 10, "notifications": 3})
        markers.save(session, bob.id, {"home": 99})
    with runtime.db.session() as session:
        (moved,) = markers.save(session, ana.id, {"home": 12})
        assert (moved.last_read_id, moved.version) == (12, 2)
    with runtime.db.session() as session:
        mine = {m.timeline: m.last_read_id for m in markers.markers(session, ana.id, ["home"])}
        assert mine == {"home": 12}
        both = markers.markers(session, ana.id, ["home", "notifications", "lists", "home"])
        assert sorted((m.timeline, m.version) for m in both) == [("home", 2), ("notifications", 1)]
        assert [m.last_read_id for m in markers.markers(session, bob.id, ["home"])] == [99]


def test_only_home_and_notifications_have_markers(runtime: Runtime, make_user: MakeUser) -> None:
    ana = make_user("ana")
    with runtime.db.session() as session, pytest.raises(InvalidInput, match="public"):
        markers.save(session, ana.id, {"public": 1})
    with runtime.db.session() as session, pytest.raises(InvalidInput, match="last_read_id"):
        markers.save(session, ana.id, {})
