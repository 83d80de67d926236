"""Statuses: create (idempotent), read, edit, delete, context, history, votes, reposts, saves."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from parvis.accounts.models import User
from parvis.api import entities
from parvis.api.auth import Caller, caller, optional_caller, require_if_token, viewer_for
from parvis.api.ids import parse_id
from parvis.api.models import IdempotencyKey
from parvis.api.pagination import PAGE_OPENAPI, link_header, max_id_param, page_params
from parvis.api.params import Params, read_params
from parvis.api.responses import status_page
from parvis.errors import InvalidInput, NotFound
from parvis.runtime import Runtime, get_runtime
from parvis.social import engagement, feeds, pins, posts
from parvis.social.feeds import PageQuery
from parvis.social.models import Post, PostKind
from parvis.social.posts import PostDraft
from parvis.social.rows import PostRow
from parvis.social.views import build_view, build_views
from parvis.social.visibility import Viewer
from parvis.storage.hot import Reader

router = APIRouter(prefix="/api/v1", tags=["statuses"])


def _post_id(value: str) -> int:
    number = parse_id(value)
    if number is None:
        raise NotFound("Record not found")
    return number


def _viewer(session: Session, who: Caller | None) -> Viewer:
    return viewer_for(session, who)


def _entity(session: Session, who: Caller | None, post: Post, runtime: Runtime) -> entities.Status:
    return entities.status(build_view(session, _viewer(session, who), post), runtime.settings)


def _draft(params: Params) -> PostDraft:
    """A post draft from Mastodon's status parameters (polls refused, ids checked)."""
    if any(key.startswith("poll") for key in params.values):
        raise InvalidInput("Polls are not supported on this server.", "poll")
    if params.has("scheduled_at") and params.get("scheduled_at"):
        raise InvalidInput("Scheduled statuses are not supported on this server.", "scheduled_at")
    return PostDraft(
        body=params.get("status"),
        spoiler_text=params.get("spoiler_text"),
        sensitive=params.boolean("sensitive"),
        in_reply_to_id=params.integer("in_reply_to_id"),
        quote_of_id=params.integer("quote_id"),
        attachment_ids=params.ids("media_ids"),
        language=params.get("language") or None,
        visibility=params.get("visibility") or "public",
        title=params.get("title"),
        kind=PostKind.ARTICLE if params.get("kind") == "article" else PostKind.POST,
    )


@router.post("/statuses")
def create_status(
    request: Request,
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Status:
    """Publish a status. A repeated Idempotency-Key returns the status created the first time."""
    user = who.member("write:statuses")
    key = request.headers.get("idempotency-key", "").strip()[:200]
    draft = _draft(params)
    with runtime.db.session() as session:
        if key:
            seen = session.get(IdempotencyKey, (user.id, key))
            if seen is not None:
                return _entity(session, who, session.get_one(Post, seen.post_id), runtime)
        me = session.get_one(User, user.id)
        post = posts.create_post(session, runtime.settings, me, draft, services=runtime.services)
        if key:
            session.add(IdempotencyKey(user_id=user.id, key=key, post_id=post.id))
        session.flush()
        return _entity(session, who, post, runtime)


@router.get("/statuses/{status_id}")
def get_status(
    status_id: str,
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Status:
    """One status (404 when deleted, removed by a moderation decision or hidden by a block)."""
    require_if_token(who, "read:statuses")
    with runtime.db.session() as session:
        viewer = _viewer(session, who)
        post = posts.get_visible_post(session, viewer, _post_id(status_id))
        entity = entities.status(build_view(session, viewer, post), runtime.settings)
        if viewer.user_id == post.author_id:
            entity["pinned"] = pins.is_pinned(session, post.author_id, post.id)
        return entity


@router.put("/statuses/{status_id}")
def edit_status(
    status_id: str,
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Status:
    """Edit one's own status; the previous version goes to its history."""
    user = who.member("write:statuses")
    draft = _draft(params)
    with runtime.db.session() as session:
        me = session.get_one(User, user.id)
        post = posts.edit_post(
            session, runtime.settings, me, _post_id(status_id), draft, services=runtime.services
        )
        return _entity(session, who, post, runtime)


@router.delete("/statuses/{status_id}")
def delete_status(
    status_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> entities.Status:
    """Delete one's own status; returns it with its source text, as Mastodon does."""
    user = who.member("write:statuses")
    with runtime.db.session() as session:
        viewer = _viewer(session, who)
        post = posts.get_visible_post(session, viewer, _post_id(status_id))
        entity = entities.status(build_view(session, viewer, post), runtime.settings)
        posts.delete_post(session, session.get_one(User, user.id), post.id)
        entity["text"] = post.body_source
        return entity


@router.get("/statuses/{status_id}/context")
def context(
    status_id: str,
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Context:
    """Ancestors and descendants of a status (removed ones left out)."""
    require_if_token(who, "read:statuses")
    with runtime.db.session() as session:
        viewer = _viewer(session, who)
        post = posts.get_visible_post(session, viewer, _post_id(status_id))
        thread = feeds.thread(session, viewer, post)
        ancestors = [p for p in thread.ancestors if p.deleted_at is None]
        descendants = [p for p, _ in thread.descendants if p.deleted_at is None]
        views = build_views(session, viewer, ancestors + descendants)
        settings = runtime.settings
        return {
            "ancestors": [
                entities.status(v, settings) for v in views[: len(ancestors)] if not v.removed
            ],
            "descendants": [
                entities.status(v, settings) for v in views[len(ancestors) :] if not v.removed
            ],
        }


@router.get("/statuses/{status_id}/history")
def history(
    status_id: str,
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> list[entities.StatusEdit]:
    """Every version of a status, oldest first (StatusEdit entities). Under an interstitial
    every version carries the status's warning, so no client shows an old version bare."""
    require_if_token(who, "read:statuses")
    with runtime.db.session() as session:
        viewer = _viewer(session, who)
        post = posts.get_visible_post(session, viewer, _post_id(status_id))
        view = build_view(session, viewer, post)
        current = entities.status(view, runtime.settings)
        warned = view.restriction is not None and view.restriction.interstitial
        versions: list[entities.StatusEdit] = [
            {
                "content": r.body_html,
                "spoiler_text": current["spoiler_text"] if warned else r.spoiler_text,
                "sensitive": warned or bool(r.spoiler_text),
                "created_at": entities.iso(r.created_at),
                "account": current["account"],
                "media_attachments": [],
                "emojis": [],
            }
            for r in posts.revisions(session, post.id)
        ]
        versions.append(
            {
                "content": current["content"],
                "spoiler_text": current["spoiler_text"],
                "sensitive": current["sensitive"],
                "created_at": entities.iso(post.edited_at or post.created_at),
                "account": current["account"],
                "media_attachments": current["media_attachments"],
                "emojis": [],
            }
        )
        return versions


@router.get("/statuses/{status_id}/source")
def source(
    status_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> entities.StatusSource:
    """The Markdown source of one's own status, for editing."""
    user = who.member("read:statuses")
    with runtime.db.session() as session:
        post = posts.get_visible_post(session, _viewer(session, who), _post_id(status_id))
        if post.author_id != user.id:
            raise NotFound("Record not found")
        return {"id": str(post.id), "text": post.body_source, "spoiler_text": post.spoiler_text}


ACTIONS = (
    "favourite",
    "unfavourite",
    "reblog",
    "unreblog",
    "bookmark",
    "unbookmark",
    "pin",
    "unpin",
)


def _action(runtime: Runtime, who: Caller, status_id: str, action: str) -> entities.Status:
    scope = (
        "write:bookmarks"
        if "bookmark" in action
        else "write:favourites"
        if "favourite" in action
        else "write:accounts"
        if "pin" in action
        else "write:statuses"
    )
    user = who.member(scope)
    with runtime.db.session() as session:
        me = session.get_one(User, user.id)
        viewer = _viewer(session, who)
        post_id = _post_id(status_id)
        posts.get_visible_post(session, viewer, post_id)
        result: Post
        if action == "favourite":
            result = posts.vote(session, me, post_id, 1)
        elif action == "unfavourite":
            current = build_view(session, viewer, posts.get_post(session, post_id)).my_vote
            result = (
                posts.vote(session, me, post_id, 0)
                if current == 1
                else posts.get_post(session, post_id)
            )
        elif action == "reblog":
            result = posts.repost(session, me, post_id)
        elif action == "unreblog":
            result = posts.unrepost(session, me, post_id)
        elif action in ("bookmark", "unbookmark"):
            result = posts.bookmark(session, me, post_id, on=action == "bookmark")
        elif action == "pin":
            result = pins.pin(session, me, post_id)
        elif action == "unpin":
            result = pins.unpin(session, me, post_id)
        else:
            raise NotFound("Record not found")
        session.flush()
        entity = entities.status(
            build_view(session, viewer, session.get_one(Post, result.id)), runtime.settings
        )
        entity["pinned"] = pins.is_pinned(session, me.id, result.id)
        return entity


@router.post("/statuses/{status_id}/{action}")
def status_action(
    status_id: str,
    action: str,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Status:
    """favourite (= up-vote), unfavourite, reblog, unreblog, bookmark, unbookmark, pin, unpin."""
    if action not in ACTIONS:
        raise NotFound("Record not found")
    return _action(runtime, who, status_id, action)


@router.get("/bookmarks", openapi_extra=PAGE_OPENAPI)
def bookmarks(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The member's bookmarked statuses."""
    return _own_collection(request, page, who, runtime, "read:bookmarks", feeds.bookmarks)


@router.get("/favourites", openapi_extra=PAGE_OPENAPI)
def favourites(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The statuses the member favourited, i.e. voted up (paged by status id, newest first)."""
    return _own_collection(request, page, who, runtime, "read:favourites", feeds.favourites)


def _own_collection(
    request: Request,
    page: PageQuery,
    who: Caller,
    runtime: Runtime,
    scope: str,
    collect: Callable[[Reader, Viewer, PageQuery], list[PostRow]],
) -> Response:
    who.member(scope)
    with runtime.db.session() as session:
        viewer = _viewer(session, who)
        rows = collect(session, viewer, page)
        return status_page(request, session, viewer, rows, runtime.settings, page.limit)


def _engaged(
    request: Request,
    status_id: str,
    which: str,
    limit: int,
    max_id: int | None,
    who: Caller | None,
    runtime: Runtime,
) -> Response:
    require_if_token(who, "read:accounts")
    with runtime.db.session() as session:
        viewer = _viewer(session, who)
        post = posts.get_visible_post(session, viewer, _post_id(status_id))
        finder = engagement.upvoters if which == "favourited_by" else engagement.reposters
        users = finder(session, post.id, max_id=max_id, limit=limit)
        body = [
            entities.account(u, runtime.settings) for u in users if viewer.can_see_account(u.id)
        ]
    response = JSONResponse(body)
    link_header(request, response, users, limit)
    return response


@router.get("/statuses/{status_id}/favourited_by")
def favourited_by(
    request: Request,
    status_id: str,
    limit: int = Query(40, ge=1, le=80),
    max_id: int | None = Depends(max_id_param),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Accounts that favourited (up-voted) the status, paged by account id."""
    return _engaged(request, status_id, "favourited_by", limit, max_id, who, runtime)


@router.get("/statuses/{status_id}/reblogged_by")
def reblogged_by(
    request: Request,
    status_id: str,
    limit: int = Query(40, ge=1, le=80),
    max_id: int | None = Depends(max_id_param),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Accounts that reblogged the status, paged by account id."""
    return _engaged(request, status_id, "reblogged_by", limit, max_id, who, runtime)
