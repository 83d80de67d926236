"""Parvis's own endpoints, kept apart from Mastodon's paths under /api/parvis/v1."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from parvis.accounts.models import User
from parvis.accounts.ranks import RANKS
from parvis.api import entities
from parvis.api.auth import Caller, caller, optional_caller
from parvis.api.pagination import page_params
from parvis.api.params import read_params
from parvis.api.responses import status_page
from parvis.errors import InvalidInput, NotFound
from parvis.runtime import Runtime, get_runtime
from parvis.social import feeds, posts
from parvis.social.feeds import PageQuery
from parvis.social.models import PostKind
from parvis.social.posts import PostDraft
from parvis.social.views import build_view
from parvis.social.visibility import ANONYMOUS, load_viewer

router = APIRouter(prefix="/api/parvis/v1", tags=["parvis"])


@router.post("/statuses/{status_id}/vote")
async def vote(
    request: Request,
    status_id: str,
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> dict[str, Any]:
    """Vote a status up (value=1), down (value=-1) or withdraw the vote (value=0)."""
    user = who.member("write:favourites")
    params = await read_params(request)
    value = params.get("value")
    if value not in ("1", "-1", "0") or not status_id.isdigit():
        raise InvalidInput("value must be 1, -1 or 0.", "value")

    def work() -> dict[str, Any]:
        with runtime.db.session() as session:
            post = posts.vote(session, session.get_one(User, user.id), int(status_id), int(value))
            return entities.status(
                build_view(session, load_viewer(session, user.id), post), runtime.settings
            )

    return await run_in_threadpool(work)


@router.get("/articles")
def articles(
    request: Request,
    page: PageQuery = Depends(page_params),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Long-form articles, newest first."""
    with runtime.db.session() as session:
        viewer = load_viewer(session, who.user.id) if who and who.user else ANONYMOUS
        rows = feeds.articles(session, viewer, page)
        return status_page(request, session, viewer, rows, runtime.settings)


@router.post("/articles")
async def create_article(
    request: Request, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, Any]:
    """Publish an article (title + Markdown body); replies are its comments."""
    user = who.member("write:statuses")
    params = await read_params(request)

    def work() -> dict[str, Any]:
        with runtime.db.session() as session:
            draft = PostDraft(
                body=params.get("body"), title=params.get("title"), kind=PostKind.ARTICLE
            )
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

    return await run_in_threadpool(work)


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
def account_rank(account_id: str, runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """A member's current rank."""
    with runtime.db.session() as session:
        user = session.get(User, int(account_id)) if account_id.isdigit() else None
        if user is None:
            raise NotFound("Record not found")
        rank: dict[str, Any] = entities.account(user, runtime.settings)["parvis"]
        return rank
