"""Timelines: home (followed accounts, chronological), public (local) and hashtag.

Every timeline goes through `social.feeds`, which obeys the viewer's blocks and mutes, and
answers with Mastodon's `Link` pagination header.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from parvis.api.auth import Caller, caller, optional_caller, require_if_token, viewer_for
from parvis.api.pagination import page_params
from parvis.api.responses import status_page
from parvis.runtime import Runtime, get_runtime
from parvis.social import feeds
from parvis.social.feeds import PageQuery
from parvis.social.visibility import load_viewer

router = APIRouter(prefix="/api/v1/timelines", tags=["timelines"])


@router.get("/home")
async def home(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The followed accounts' statuses and reposts plus one's own, newest first."""
    user_id = who.member_id("read:statuses")

    def work() -> Response:
        with runtime.db.read() as db:
            viewer = load_viewer(db, user_id)
            rows = feeds.home(db, viewer, page)
            return status_page(request, db, viewer, rows, runtime.settings)

    return await runtime.read(work)


@router.get("/public")
async def public(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Every public status of this instance (all are local)."""
    require_if_token(who, "read:statuses")

    def work() -> Response:
        with runtime.db.read() as db:
            viewer = viewer_for(db, who)
            rows = feeds.public(db, viewer, page)
            return status_page(request, db, viewer, rows, runtime.settings)

    return await runtime.read(work)


@router.get("/tag/{tag}")
async def tag(
    request: Request,
    tag: str,
    page: PageQuery = Depends(page_params),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Public statuses with a hashtag."""
    require_if_token(who, "read:statuses")

    def work() -> Response:
        with runtime.db.read() as db:
            viewer = viewer_for(db, who)
            rows = feeds.tag(db, viewer, tag, page)
            return status_page(request, db, viewer, rows, runtime.settings)

    return await runtime.read(work)
