"""Notifications: list (with Mastodon's type filters), one, dismiss, clear.

Parvis's kinds map onto Mastodon's types: reply and quote are `mention`, vote is `favourite`,
a moderation decision is `moderation_warning`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from parvis.accounts.models import User
from parvis.api import entities
from parvis.api.auth import Caller, caller
from parvis.api.ids import parse_id
from parvis.api.pagination import PAGE_OPENAPI, link_header, page_params
from parvis.errors import NotFound
from parvis.runtime import Runtime, get_runtime
from parvis.social import notifications
from parvis.social.feeds import PageQuery
from parvis.social.models import Notification, NotificationKind, Post
from parvis.social.views import build_views
from parvis.social.visibility import Viewer, load_viewer

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


def kinds_for(types: list[str], exclude: list[str]) -> list[str] | None:
    """Parvis notification kinds matching Mastodon's `types[]` minus `exclude_types[]`."""
    if not types and not exclude:
        return None
    wanted = set(types) or {entities.NOTIFICATION_TYPES.get(k, k) for k in NotificationKind}
    wanted -= set(exclude)
    return [k.value for k in NotificationKind if entities.NOTIFICATION_TYPES.get(k, k) in wanted]


def notification_entities(
    session: Session, runtime: Runtime, viewer: Viewer, rows: list[Notification]
) -> list[entities.Notification]:
    """Entities for notification rows; their statuses go through the viewer's views.

    A status removed by a moderation decision is gone for Mastodon clients (404): the
    notifications about it are left out already (`social.notifications`), and the moderation
    notice to its author comes without the status.
    """
    actor_ids = {r.actor_id for r in rows}
    actors = {u.id: u for u in session.scalars(select(User).where(User.id.in_(actor_ids)))}
    post_ids = {r.post_id for r in rows if r.post_id}
    post_rows = list(session.scalars(select(Post).where(Post.id.in_(post_ids)))) if post_ids else []
    views = {v.post.id: v for v in build_views(session, viewer, post_rows)}
    found: list[entities.Notification] = []
    for row in rows:
        view = views.get(row.post_id or 0)
        if view is not None and view.removed:
            view = None
        found.append(entities.notification(row, actors[row.actor_id], view, runtime.settings))
    return found


@router.get("", openapi_extra=PAGE_OPENAPI)
def list_notifications(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The member's notifications, newest first (blocked and muted actors left out)."""
    user = who.member("read:notifications")
    query = request.query_params
    kinds = kinds_for(
        query.getlist("types[]") + query.getlist("types"),
        query.getlist("exclude_types[]") + query.getlist("exclude_types"),
    )
    with runtime.db.session() as session:
        viewer = load_viewer(session, user.id)
        rows = (
            []
            if kinds == []
            else notifications.list_notifications(
                session,
                viewer,
                max_id=page.max_id,
                since_id=page.since_id,
                min_id=page.min_id,
                limit=page.limit,
                kinds=kinds,
            )
        )
        body = notification_entities(session, runtime, viewer, rows)
    response = JSONResponse(body)
    link_header(request, response, rows, page.limit)
    return response


@router.post("/clear")
def clear(who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """Delete all the member's notifications."""
    user = who.member("write:notifications")
    with runtime.db.session() as session:
        notifications.clear(session, user.id)
    return {}


def _own(session: Session, user_id: int, notification_id: str) -> Notification:
    number = parse_id(notification_id)
    row = session.get(Notification, number) if number is not None else None
    if row is None or row.user_id != user_id:
        raise NotFound("Record not found")
    return row


@router.get("/{notification_id}")
def get_notification(
    notification_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> entities.Notification:
    """One notification of the member (404 when it would not be listed: its actor blocked or
    muted, its status deleted, hidden or removed by a decision)."""
    user = who.member("read:notifications")
    with runtime.db.session() as session:
        row = _own(session, user.id, notification_id)
        viewer = load_viewer(session, user.id)
        if not notifications.is_shown(session, viewer, row):
            raise NotFound("Record not found")
        return notification_entities(session, runtime, viewer, [row])[0]


@router.post("/{notification_id}/dismiss")
def dismiss(
    notification_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, Any]:
    """Delete one notification."""
    user = who.member("write:notifications")
    with runtime.db.session() as session:
        _own(session, user.id, notification_id)
        notifications.dismiss(session, user.id, int(notification_id))
    return {}
