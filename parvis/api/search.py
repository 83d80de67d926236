"""GET /api/v2/search: accounts, statuses and hashtags, with blocks and mutes obeyed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from parvis.api import entities
from parvis.api.auth import Caller, optional_caller
from parvis.errors import InvalidInput
from parvis.runtime import Runtime, get_runtime
from parvis.social import search
from parvis.social.models import PostTag
from parvis.social.views import build_views
from parvis.social.visibility import ANONYMOUS, load_viewer

router = APIRouter(prefix="/api/v2", tags=["search"])
TYPES = ("accounts", "statuses", "hashtags")


@router.get("/search")
def search_v2(
    q: str = Query("", max_length=200, description="The search query."),
    type: str | None = Query(None, description="accounts, statuses or hashtags; all if omitted."),
    limit: int = Query(20, ge=1, le=40),
    offset: int = Query(0, ge=0, le=10_000),
    who: Caller | None = Depends(optional_caller),
    runtime: Runtime = Depends(get_runtime),
) -> entities.Search:
    """Accounts, statuses and hashtags matching the query (anonymous callers see public ones)."""
    if type not in (None, "", *TYPES):
        raise InvalidInput("type must be accounts, statuses or hashtags.", "type")
    if who is not None:
        who.require("read:search")
    wanted = TYPES if not type else (type,)
    settings = runtime.settings
    result: entities.Search = {"accounts": [], "statuses": [], "hashtags": []}
    with runtime.db.session() as session:
        viewer = load_viewer(session, who.user_id) if who else ANONYMOUS
        if "accounts" in wanted:
            result["accounts"] = [
                entities.account(u, settings)
                for u in search.search_accounts(session, viewer, q, limit=limit, offset=offset)
            ]
        if "statuses" in wanted:
            rows = search.search_posts(session, viewer, q, limit=limit, offset=offset)
            result["statuses"] = [
                entities.status(v, settings)
                for v in build_views(session, viewer, rows)
                if not v.removed
            ]
        prefix = q.strip().lstrip("#").lower()
        if "hashtags" in wanted and prefix:
            names = session.scalars(
                select(PostTag.tag)
                .where(PostTag.tag.startswith(prefix, autoescape=True))
                .distinct()
                .order_by(PostTag.tag)
                .limit(limit)
                .offset(offset)
            )
            result["hashtags"] = [entities.tag(n, settings) for n in names]
    return result
