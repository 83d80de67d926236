"""The heap guard: freezes during joins, reclaims closed connections' garbage when quiet."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from parvis.live.heap import HeapGuard


class Cyclic:
    """Stands for a closed connection's objects: only the collector can free them."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def unfrozen(earlier_garbage_collected: None) -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_joins_move_what_exists_out_of_the_collectors_sight() -> None:
    guard = HeapGuard(freeze_every=3)
    guard.joined()
    guard.joined()
    assert gc.get_freeze_count() == 0
    guard.joined()
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("unfrozen")
def test_frozen_garbage_is_reclaimed_only_at_a_quiet_moment_or_when_no_room_is_served() -> None:
    guard = HeapGuard(freeze_every=1, reclaim_after=2)
    leftover = Cyclic()
    alive = weakref.ref(leftover)
    guard.joined()  # frozen with everything else
    del leftover
    gc.collect()
    assert alive() is not None  # a full collection does not see frozen objects
    assert guard.maybe_reclaim(quiet=True, serving=True) is None  # nobody left yet
    guard.departed()
    assert guard.maybe_reclaim(quiet=True, serving=True) is None  # not enough to pause for
    guard.departed()
    assert guard.maybe_reclaim(quiet=False, serving=True) is None  # a storm: not now
    collected = guard.maybe_reclaim(quiet=True, serving=True)
    assert collected is not None
    assert collected >= 1
    assert alive() is None
    assert guard.pending_departures == 0
    assert gc.get_freeze_count() > 0  # what survives is frozen again


@pytest.mark.usefixtures("unfrozen")
def test_the_last_listener_leaving_reclaims_at_once() -> None:
    guard = HeapGuard(freeze_every=1, reclaim_after=1_000)
    guard.joined()
    guard.departed()
    assert guard.maybe_reclaim(quiet=False, serving=False) is not None
