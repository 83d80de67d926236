"""Timelines: home (followed accounts, chronological), public (local) and hashtag.

Every timeline goes through `social.feeds`, which obeys the viewer's blocks and mutes, and
answers with Mastodon's `Link` pagination header.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from parvis.api.auth import Caller, caller, optional_caller, require_if_token
from parvis.api.pagination import PAGE_OPENAPI, page_params
from parvis.api.responses import status_page
from parvis.runtime import Runtime
from parvis.social import feeds
from parvis.social.feeds import PageQuery
from parvis.social.rows import PostRow
from parvis.social.visibility import Viewer, load_viewer
from parvis.storage.hot import Reader

router = APIRouter(prefix="/api/v1/timelines", tags=["timelines"])

Feed = Callable[[Reader, Viewer, PageQuery], list[PostRow]]


async def _page(request: Request, user_id: int | None, page: PageQuery, feed: Feed) -> Response:
    """A page of a feed as the viewer sees it. The runtime comes from the app, not as one more
    dependency: these are the API's busiest requests."""
    runtime: Runtime = request.app.state.runtime

    def work() -> Response:
        with runtime.db.read() as db:
            viewer = load_viewer(db, user_id)
            rows = feed(db, viewer, page)
            return status_page(request, db, viewer, rows, runtime.settings, page.limit)

    return await runtime.read(work)


@router.get("/home", openapi_extra=PAGE_OPENAPI)
async def home(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller = Depends(caller),
) -> Response:
    """The followed accounts' statuses and reposts plus one's own, newest first."""
    return await _page(request, who.member_id("read:statuses"), page, feeds.home)


@router.get("/public", openapi_extra=PAGE_OPENAPI)
async def public(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller | None = Depends(optional_caller),
) -> Response:
    """Every public status of this instance (all are local)."""
    require_if_token(who, "read:statuses")
    return await _page(request, who.user_id if who else None, page, feeds.public)


@router.get("/tag/{tag}", openapi_extra=PAGE_OPENAPI)
async def tag(
    request: Request,
    tag: str,
    page: PageQuery = Depends(page_params),
    who: Caller | None = Depends(optional_caller),
) -> Response:
    """Public statuses with a hashtag."""
    require_if_token(who, "read:statuses")

    def tagged(db: Reader, viewer: Viewer, page: PageQuery) -> list[PostRow]:
        return feeds.tag(db, viewer, tag, page)

    return await _page(request, who.user_id if who else None, page, tagged)
