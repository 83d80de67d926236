"""/api/v1/markers: the member's reading position in the home timeline and notifications."""

from __future__ import annotations

from typing import TypedDict

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from parvis.api.auth import Caller, caller
from parvis.api.entities import iso
from parvis.api.ids import parse_id
from parvis.api.params import Params, read_params
from parvis.errors import InvalidInput
from parvis.runtime import Runtime, get_runtime
from parvis.social import markers as read_markers
from parvis.social.models import ReadMarker

router = APIRouter(prefix="/api/v1", tags=["markers"])


class Marker(TypedDict):
    """Mastodon's Marker entity."""

    last_read_id: str
    version: int
    updated_at: str


def _body(rows: list[ReadMarker]) -> dict[str, Marker]:
    return {
        row.timeline: {
            "last_read_id": str(row.last_read_id),
            "version": row.version,
            "updated_at": iso(row.updated_at) or "",
        }
        for row in rows
    }


@router.get("/markers")
def get_markers(
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> JSONResponse:
    """The saved markers of the timelines asked for (`timeline[]`: home, notifications)."""
    user_id = who.member_id("read:statuses")
    with runtime.db.session(read_only=True) as session:
        rows = read_markers.markers(session, user_id, params.list("timeline"))
        return JSONResponse(_body(rows))


@router.post("/markers")
def save_markers(
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> JSONResponse:
    """Save `home[last_read_id]` and/or `notifications[last_read_id]`."""
    user_id = who.member_id("write:statuses")
    positions: dict[str, int] = {}
    for key in params.values:
        timeline, bracket, rest = key.partition("[")
        if not bracket or rest != "last_read_id]":
            continue
        value = params.get(key)
        number = parse_id(value)
        if number is None:
            raise InvalidInput(f"{key} must be the id of a status or notification, not {value!r}.")
        positions[timeline] = number
    with runtime.db.session() as session:
        return JSONResponse(_body(read_markers.save(session, user_id, positions)))
