"""The HTML error page the app's exception handlers use for browser requests."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from parvis.web.session import load_page
from parvis.web.templating import render

TITLES = {
    400: "That request did not work",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Already taken",
    413: "Too large",
    422: "Please check what you entered",
    429: "Slow down",
    500: "Something went wrong",
}


def html_error(request: Request, status: int, message: str) -> Response:
    """Render the error page with the site chrome."""
    if getattr(request.state, "page", None) is None:
        try:
            load_page(request)
        except Exception:  # the page must render even when the database is the problem
            request.state.page = None
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": TITLES.get(status, "Error"),
            "message": message,
            "next_path": request.url.path,
        },
        status_code=status,
    )
