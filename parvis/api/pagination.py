"""Mastodon-style keyset pagination: query parameters in, `Link` header out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlencode

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from parvis.api.ids import parse_id
from parvis.errors import InvalidInput
from parvis.social.feeds import MAX_LIMIT, PageQuery


class HasId(Protocol):
    """Anything with an integer id (posts, notifications, accounts)."""

    id: int


async def page_params(
    max_id: str | None = Query(None, description="Return results older than this id."),
    since_id: str | None = Query(None, description="Return results newer than this id."),
    min_id: str | None = Query(None, description="Return results immediately newer than this id."),
    limit: int = Query(20, ge=1, le=MAX_LIMIT, description="Maximum number of results."),
) -> PageQuery:
    """Parse pagination parameters (ids are strings in Mastodon's API)."""

    return PageQuery(_as_id(max_id), _as_id(since_id), _as_id(min_id), limit)


def _as_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    number = parse_id(value)
    if number is None:
        raise InvalidInput(f"Invalid id '{value[:40]}': ids are digit strings.")
    return number


async def max_id_param(
    max_id: str | None = Query(None, description="Return accounts with a lower id than this."),
) -> int | None:
    """The `max_id` of account lists (followers, blocks...), which page by account id."""
    return _as_id(max_id)


def link_header(request: Request, response: Response, items: Sequence[HasId]) -> None:
    """Add `Link: <...max_id=>; rel="next", <...min_id=>; rel="prev"` for a non-empty page."""
    if not items:
        return
    base = str(request.url.replace(query=""))
    kept = {
        k: v
        for k, v in request.query_params.multi_items()
        if k not in ("max_id", "min_id", "since_id")
    }
    newer = urlencode({**kept, "min_id": str(items[0].id)})
    older = urlencode({**kept, "max_id": str(items[-1].id)})
    response.headers["Link"] = f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'
