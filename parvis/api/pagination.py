"""Mastodon-style keyset pagination: query parameters in, `Link` header out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlencode

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from parvis.api.ids import MAX_ID, parse_id
from parvis.errors import InvalidInput
from parvis.social.feeds import MAX_LIMIT, PageQuery


class HasId(Protocol):
    """Anything with an integer id (posts, notifications, accounts)."""

    id: int


DEFAULT_LIMIT = 20
_CURSORS = {
    "max_id": "Return results older than this id.",
    "since_id": "Return results newer than this id.",
    "min_id": "Return results immediately newer than this id.",
}
# The OpenAPI description of what `page_params` reads; routes that page declare it with
# `openapi_extra=PAGE_OPENAPI` (the parameters are read by hand, see `page_params`).
PAGE_OPENAPI: dict[str, Any] = {
    "parameters": [
        *(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": text,
                "schema": {"type": "string", "pattern": "^[0-9]{1,10}$"},
            }
            for name, text in _CURSORS.items()
        ),
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "Maximum number of results.",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
        },
    ]
}


async def page_params(request: Request) -> PageQuery:
    """Mastodon's pagination parameters (ids are strings in Mastodon's API), or 422 naming the
    bad one. Read by hand rather than declared to FastAPI: validating four declared parameters
    cost more than the rest of a timeline request's framework work."""
    query = request.query_params
    text = query.get("limit", "")
    if not text:
        limit = DEFAULT_LIMIT
    else:
        limit = int(text) if text.isascii() and text.isdigit() and len(text) < 4 else 0
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}.", "limit")
    return PageQuery(
        _as_id(query.get("max_id")),
        _as_id(query.get("since_id")),
        _as_id(query.get("min_id")),
        limit,
    )


def _as_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    number = parse_id(value)
    if number is None:
        raise InvalidInput(f"Invalid id '{value[:40]}': ids are digit strings of at most {MAX_ID}.")
    return number


async def max_id_param(
    max_id: str | None = Query(None, description="Return accounts with a lower id than this."),
) -> int | None:
    """The `max_id` of account lists (followers, blocks...), which page by account id."""
    return _as_id(max_id)


def link_header(
    request: Request, response: Response, items: Sequence[HasId], limit: int | None = None
) -> None:
    """Add `Link: <...max_id=>; rel="next", <...min_id=>; rel="prev"` for a non-empty page. As
    Mastodon does, "next" is left out when the page holds fewer than `limit` items (there is
    nothing older), so clients such as Mastodon.py stop paging (`fetch_next` gives None)."""
    if not items:
        return
    url = request.url
    base = f"{url.scheme}://{url.netloc}{url.path}"
    kept = [
        (name, value) for name, value in request.query_params.multi_items() if name not in _CURSORS
    ]
    newer = urlencode([*kept, ("min_id", str(items[0].id))])
    links = [f'<{base}?{newer}>; rel="prev"']
    if limit is None or len(items) >= limit:
        older = urlencode([*kept, ("max_id", str(items[-1].id))])
        links.insert(0, f'<{base}?{older}>; rel="next"')
    response.headers["Link"] = ", ".join(links)
