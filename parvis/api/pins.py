"""The pinned statuses of a profile (`GET /api/v1/accounts/:id/statuses?pinned=true`)."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from parvis.api import entities
from parvis.config import Settings
from parvis.social import pins, posts
from parvis.social.feeds import PageQuery
from parvis.social.views import build_views
from parvis.social.visibility import Viewer


def pinned_page(
    session: Session, viewer: Viewer, user_id: int, page: PageQuery, settings: Settings
) -> Response:
    """A member's pinned statuses as the viewer may see them, one page only: asking for an
    older page gives an empty list, so clients that follow pagination stop."""
    if page.max_id is not None or not viewer.can_see_account(user_id):
        return JSONResponse([])
    rows = [p for p in pins.pinned_posts(session, user_id) if posts.may_view(viewer, p)]
    body: list[entities.Status] = []
    for view in build_views(session, viewer, rows):
        if view.removed:
            continue
        entity = entities.status(view, settings)
        entity["pinned"] = True
        body.append(entity)
    return JSONResponse(body)
