"""Building paged JSON responses of statuses (the shape every timeline endpoint returns)."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from parvis.api import entities
from parvis.api.pagination import link_header
from parvis.config import Settings
from parvis.social.models import Post
from parvis.social.views import build_views
from parvis.social.visibility import Viewer


def status_page(
    request: Request, session: Session, viewer: Viewer, rows: list[Post], settings: Settings
) -> Response:
    """Statuses as the viewer sees them, with Mastodon's `Link` pagination header."""
    body = [entities.status(view, settings) for view in build_views(session, viewer, rows)]
    response = JSONResponse(body)
    link_header(request, response, rows)
    return response
