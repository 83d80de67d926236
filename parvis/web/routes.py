"""Mounts the HTML pages, static files, security headers and the HTML error page."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from parvis.web import (
    auth,
    feeds,
    live,
    moderation,
    oauth_consent,
    posts,
    preferences,
    profiles,
    reports,
    rules,
    statements,
    transparency,
)
from parvis.web.errors import html_error
from parvis.web.headers import SecurityHeaders

STATIC_DIR = Path(__file__).parent / "static"


def mount_web(app: FastAPI) -> None:
    """Add the HTML routes, static files and the HTML error page to `app`."""
    for module in (
        auth,
        feeds,
        live,
        moderation,
        oauth_consent,
        posts,
        preferences,
        profiles,
        reports,
        rules,
        statements,
        transparency,
    ):
        app.include_router(module.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.html_error = html_error
    app.add_middleware(SecurityHeaders)
