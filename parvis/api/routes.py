"""Assembles the JSON API routers: Mastodon's paths (one module per resource, as Mastodon's
own documentation groups them), OAuth, NodeInfo discovery, and Parvis's own prefix
/api/parvis/v1."""

from fastapi import APIRouter

from parvis.api import (
    accounts,
    admin_accounts,
    admin_domain_blocks,
    admin_reports,
    apps,
    filters,
    instance,
    media,
    moderation_lists,
    nodeinfo,
    notifications,
    oauth,
    parvis_ext,
    parvis_moderation,
    reports,
    search,
    statuses,
    timelines,
)


def build_api_router() -> APIRouter:
    """All JSON API routes (the HTML consent page at /oauth/authorize is mounted by parvis.web)."""
    router = APIRouter()
    for module_router in (
        instance.router,
        nodeinfo.router,
        apps.router,
        oauth.router,
        accounts.router,
        accounts.lists_router,
        statuses.router,
        timelines.router,
        notifications.router,
        search.router,
        media.router,
        reports.router,
        parvis_ext.router,
        moderation_lists.router,
        admin_reports.router,
        admin_accounts.router,
        admin_domain_blocks.router,
        parvis_moderation.router,
        parvis_moderation.instance_rules_router,
        filters.router,
    ):
        router.include_router(module_router)
    return router
