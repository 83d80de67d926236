"""Timelines, notifications and search."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from parvis.accounts.models import User
from parvis.api import entities
from parvis.api.auth import Caller, caller, optional_caller
from parvis.api.pagination import link_header, page_params
from parvis.api.responses import status_page
from parvis.errors import NotFound
from parvis.runtime import Runtime, get_runtime
from parvis.social import feeds, notifications, search
from parvis.social.feeds import PageQuery
from parvis.social.models import Notification, Post, PostTag
from parvis.social.views import build_views
from parvis.social.visibility import ANONYMOUS, load_viewer

router = APIRouter(prefix="/api", tags=["timelines"])


@router.get("/v1/timelines/home")
def home(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The followed accounts' statuses and reposts plus one's own, newest first."""
    user = who.member("read:statuses")
    with runtime.db.session() as session:
        viewer = load_viewer(session, user.id)
        rows = feeds.home(session, viewer, page)
        return status_page(request, session, viewer, rows, runtime.settings)


@router.get("/v1/timelines/public")
def public(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Every public status of this instance (all are local)."""
    with runtime.db.session() as session:
        viewer = load_viewer(session, who.user.id) if who and who.user else ANONYMOUS
        rows = feeds.public(session, viewer, page)
        return status_page(request, session, viewer, rows, runtime.settings)


@router.get("/v1/timelines/tag/{tag}")
def tag(
    request: Request,
    tag: str,
    page: PageQuery = Depends(page_params),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Public statuses with a hashtag."""
    with runtime.db.session() as session:
        viewer = load_viewer(session, who.user.id) if who and who.user else ANONYMOUS
        rows = feeds.tag(session, viewer, tag, page)
        return status_page(request, session, viewer, rows, runtime.settings)


@router.get("/v1/notifications")
def list_notifications(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The member's notifications, newest first (blocked and muted actors left out)."""
    user = who.member("read:notifications")
    types = request.query_params.getlist("types[]")
    with runtime.db.session() as session:
        viewer = load_viewer(session, user.id)
        wanted = None
        if types:
            reverse = {"mention": ["mention", "reply", "quote"], "favourite": ["vote"]}
            wanted = [k for t in types for k in reverse.get(t, [t])]
        rows = notifications.list_notifications(
            session,
            viewer,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
            limit=page.limit,
            kinds=wanted,
        )
        body = _notification_entities(session, runtime, viewer, rows)
    response = JSONResponse(body)
    link_header(request, response, rows)
    return response


def _notification_entities(
    session: Any, runtime: Runtime, viewer: Any, rows: list[Notification]
) -> list[dict[str, Any]]:
    actors = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({r.actor_id for r in rows})))
    }
    post_ids = {r.post_id for r in rows if r.post_id}
    post_rows = list(session.scalars(select(Post).where(Post.id.in_(post_ids)))) if post_ids else []
    views = {v.post.id: v for v in build_views(session, viewer, post_rows)}
    return [
        entities.notification(r, actors[r.actor_id], views.get(r.post_id or 0), runtime.settings)
        for r in rows
    ]


@router.get("/v1/notifications/{notification_id}")
def get_notification(
    notification_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, Any]:
    """One notification of the member."""
    user = who.member("read:notifications")
    with runtime.db.session() as session:
        row = session.get(Notification, int(notification_id)) if notification_id.isdigit() else None
        if row is None or row.user_id != user.id:
            raise NotFound("Record not found")
        return _notification_entities(session, runtime, load_viewer(session, user.id), [row])[0]


@router.post("/v1/notifications/clear")
def clear(who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """Delete all the member's notifications."""
    user = who.member("write:notifications")
    with runtime.db.session() as session:
        notifications.clear(session, user.id)
    return {}


@router.post("/v1/notifications/{notification_id}/dismiss")
def dismiss(
    notification_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, Any]:
    """Delete one notification."""
    user = who.member("write:notifications")
    if not notification_id.isdigit():
        raise NotFound("Record not found")
    with runtime.db.session() as session:
        notifications.dismiss(session, user.id, int(notification_id))
    return {}


@router.get("/v2/search")
def search_v2(
    q: str = Query("", max_length=200),
    type: str | None = None,
    limit: int = Query(20, ge=1, le=40),
    offset: int = Query(0, ge=0, le=10_000),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Accounts, statuses and hashtags matching the query."""
    if type not in (None, "", "accounts", "statuses", "hashtags"):
        from parvis.errors import InvalidInput

        raise InvalidInput("type must be accounts, statuses or hashtags.", "type")
    with runtime.db.session() as session:
        viewer = load_viewer(session, who.user.id) if who and who.user else ANONYMOUS
        result: dict[str, Any] = {"accounts": [], "statuses": [], "hashtags": []}
        if type in (None, "", "accounts"):
            result["accounts"] = [
                entities.account(u, runtime.settings)
                for u in search.search_accounts(session, viewer, q, limit=limit, offset=offset)
            ]
        if type in (None, "", "statuses"):
            rows = search.search_posts(session, viewer, q, limit=limit, offset=offset)
            result["statuses"] = [
                entities.status(v, runtime.settings) for v in build_views(session, viewer, rows)
            ]
        if type in (None, "", "hashtags") and q.strip().lstrip("#"):
            prefix = q.strip().lstrip("#").lower()
            names = session.scalars(
                select(PostTag.tag)
                .where(PostTag.tag.startswith(prefix, autoescape=True))
                .distinct()
                .limit(limit)
            )
            result["hashtags"] = [
                {"name": n, "url": f"{runtime.settings.base_url}/tags/{n}", "history": []}
                for n in names
            ]
        return result
