"""Parvis's own endpoints, kept apart from Mastodon's paths under /api/parvis/v1."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from parvis.accounts.models import User
from parvis.accounts.ranks import RANKS
from parvis.api import entities
from parvis.api.auth import Caller, caller, optional_caller, require_if_token, viewer_for
from parvis.api.ids import parse_id
from parvis.api.pagination import PAGE_OPENAPI, page_params
from parvis.api.params import Params, read_params
from parvis.api.responses import status_page
from parvis.errors import InvalidInput, NotFound
from parvis.runtime import Runtime, get_runtime
from parvis.social import feeds, posts
from parvis.social.feeds import PageQuery
from parvis.social.models import PostKind
from parvis.social.posts import PostDraft
from parvis.social.views import build_view
from parvis.social.visibility import load_viewer

router = APIRouter(prefix="/api/parvis/v1", tags=["parvis"])


@router.post("/statuses/{status_id}/vote")
def vote(
    status_id: str,
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Status:
    """Vote a status up (value=1), down (value=-1) or withdraw the vote (value=0)."""
    user = who.member("write:favourites")
    value = params.get("value")
    if value not in ("1", "-1", "0"):
        raise InvalidInput("value must be 1, -1 or 0.", "value")
    if parse_id(status_id) is None:
        raise NotFound("Record not found")
    with runtime.db.session() as session:
        viewer = load_viewer(session, user.id)
        posts.get_visible_post(session, viewer, int(status_id))
        post = posts.vote(session, session.get_one(User, user.id), int(status_id), int(value))
        return entities.status(build_view(session, viewer, post), runtime.settings)


@router.get("/articles", openapi_extra=PAGE_OPENAPI)
def articles(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Long-form articles, newest first (a token sent must allow `read:statuses`)."""
    require_if_token(who, "read:statuses")
    with runtime.db.session() as session:
        viewer = viewer_for(session, who)
        rows = feeds.articles(session, viewer, page)
        return status_page(request, session, viewer, rows, runtime.settings, page.limit)


@router.post("/articles")
def create_article(
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Status:
    """Publish an article (title + Markdown body); replies to it are its comments."""
    user = who.member("write:statuses")
    draft = PostDraft(
        body=params.get("body") or params.get("status"),
        title=params.get("title"),
        spoiler_text=params.get("spoiler_text"),
        language=params.get("language") or None,
        kind=PostKind.ARTICLE,
    )
    with runtime.db.session() as session:
        post = posts.create_post(
            session,
            runtime.settings,
            session.get_one(User, user.id),
            draft,
            services=runtime.services,
        )
        return entities.status(
            build_view(session, load_viewer(session, user.id), post), runtime.settings
        )


@router.get("/ranks")
def ranks() -> list[dict[str, Any]]:
    """The member rank tiers and what each needs."""
    return [
        {
            "name": r.name,
            "min_days": r.min_days,
            "min_net_upvotes": r.min_score,
            "description": r.description,
        }
        for r in RANKS
    ]


@router.get("/accounts/{account_id}/rank")
def account_rank(
    account_id: str, runtime: Runtime = Depends(get_runtime)
) -> entities.AccountExtras:
    """A member's current rank, role and received vote score."""
    with runtime.db.session() as session:
        number = parse_id(account_id)
        user = session.get(User, number) if number is not None else None
        if user is None:
            raise NotFound("Record not found")
        return entities.account(user, runtime.settings)["parvis"]
