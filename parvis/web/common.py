"""Small helpers shared by the page handlers."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse

from parvis.errors import ParvisError
from parvis.social.feeds import PageQuery
from parvis.social.rows import AnyPost

PAGE_SIZE = 20


def safe_next(target: str | None, fallback: str = "/") -> str:
    """A local path to go to after a form; never an outside address (open-redirect guard)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def redirect(url: str) -> RedirectResponse:
    """POST-redirect-GET."""
    return RedirectResponse(url, status_code=303)


def back(request: Request, fallback: str = "/") -> RedirectResponse:
    """Redirect to the page the form was on (same site only)."""
    referer = request.headers.get("referer", "")
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.url.netloc:
        return redirect(fallback)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return redirect(safe_next(path, fallback) if referer else fallback)


def errors_of(exc: ParvisError) -> dict[str, str]:
    """Form errors keyed by field (or `_form`) for re-rendering a form."""
    return {exc.field or "_form": exc.message}


def page_query(max_id: int | None) -> PageQuery:
    """The keyset page a feed URL asks for."""
    return PageQuery(max_id=max_id, limit=PAGE_SIZE)


def next_url(base: str, posts: Sequence[AnyPost]) -> str | None:
    """The 'older posts' link, when the page was full."""
    if len(posts) < PAGE_SIZE:
        return None
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}max_id={posts[-1].id}"
