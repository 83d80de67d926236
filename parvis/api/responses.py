"""Building paged JSON responses of statuses (the shape every timeline endpoint returns)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from parvis.api import entities
from parvis.api.pagination import link_header
from parvis.config import Settings
from parvis.social.rows import AnyPost
from parvis.social.views import build_views
from parvis.social.visibility import Viewer
from parvis.storage.hot import Reader


class FastJSONResponse(JSONResponse):
    """JSON encoded with orjson: timelines are the API's hottest responses, and the standard
    library's encoder is several times slower on pages of statuses."""

    def render(self, content: object) -> bytes:
        return orjson.dumps(content)


def status_page(
    request: Request,
    db: Reader,
    viewer: Viewer,
    rows: Sequence[AnyPost],
    settings: Settings,
    limit: int | None = None,
) -> Response:
    """Statuses as the viewer sees them, with Mastodon's `Link` pagination header."""
    accounts: dict[int, entities.Account] = {}
    body = [entities.status(view, settings, accounts) for view in build_views(db, viewer, rows)]
    response = FastJSONResponse(body)
    link_header(request, response, rows, limit)
    return response
