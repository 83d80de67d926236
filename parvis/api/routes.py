"""Assembles the JSON API routers: Mastodon's paths, OAuth, and Parvis's own prefix."""

from fastapi import APIRouter

from parvis.api import (
    accounts,
    instance,
    media,
    oauth,
    parvis_ext,
    reports,
    statuses,
    timelines,
)


def build_api_router() -> APIRouter:
    """All JSON API routes."""
    router = APIRouter()
    for module_router in (
        instance.router,
        oauth.router,
        accounts.router,
        accounts.blocks_router,
        statuses.router,
        timelines.router,
        media.router,
        reports.router,
        parvis_ext.router,
    ):
        router.include_router(module_router)
    return router
