"""Assembles the JSON API routers: Mastodon's paths (one module per resource, as Mastodon's
own documentation groups them), OAuth, NodeInfo discovery, and Parvis's own prefix
/api/parvis/v1."""

from fastapi import APIRouter

from parvis.api import (
    absent,
    accounts,
    admin_accounts,
    admin_domain_blocks,
    admin_reports,
    apps,
    filters,
    instance,
    markers,
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


def api_routers() -> list[APIRouter]:
    """All JSON API routers, busiest first (the HTML consent page at /oauth/authorize is mounted
    by parvis.web). The application includes each directly: routes are matched one by one in
    this order, so timelines and statuses are not tried after every admin route."""
    return [
        timelines.router,
        statuses.router,
        notifications.router,
        markers.router,
        accounts.router,
        accounts.lists_router,
        search.router,
        media.router,
        instance.router,
        nodeinfo.router,
        apps.router,
        oauth.router,
        reports.router,
        parvis_ext.router,
        filters.router,
        moderation_lists.router,
        admin_reports.router,
        admin_accounts.router,
        admin_domain_blocks.router,
        parvis_moderation.router,
        parvis_moderation.instance_rules_router,
        absent.router,
    ]
