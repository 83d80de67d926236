"""Jinja2 templates for the HTML pages, with the filters and globals they share."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from parvis.accounts.ranks import RANKS, rank_for
from parvis.social.markup import plain_text
from parvis.storage.base import utcnow

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def timeago(moment: datetime | None) -> str:
    """A short relative time such as '5m', '3h' or '12 Mar'."""
    if moment is None:
        return ""
    seconds = int((utcnow() - moment).total_seconds())
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if seconds < 86400 * 7:
        return f"{seconds // 86400}d"
    return moment.strftime("%-d %b %Y")


def trusted_html(html: str) -> Markup:
    """Mark HTML produced by `social.markup.render` (already sanitised by nh3) as safe."""
    return Markup(html)  # noqa: S704 - the input was sanitised with an allow-list when stored


def excerpt(html: str, length: int = 280) -> str:
    """The first words of a post's text, for article teasers in feeds."""
    text = plain_text(html)
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0].rstrip(".,;:") + "…"


templates.env.filters["timeago"] = timeago
templates.env.filters["excerpt"] = excerpt
templates.env.filters["sanitised"] = trusted_html
templates.env.globals["rank_for"] = rank_for
templates.env.globals["RANKS"] = RANKS


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render a page with the request's page context (viewer, CSRF token, instance name)."""
    page = getattr(request.state, "page", None)
    merged = {"page": page, "settings": request.app.state.runtime.settings, **context}
    response = templates.TemplateResponse(request, name, merged, status_code=status_code)
    if page is not None:
        page.finish(response)
    return response
