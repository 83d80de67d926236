"""Mounts the web pages on the application (placeholder until the pages land)."""

from fastapi import FastAPI


def mount_web(app: FastAPI) -> None:
    """Add the HTML routes, static files and the HTML error page to `app`."""
