"""NodeInfo discovery: /.well-known/nodeinfo points at the NodeInfo 2.0 and 2.1 documents
(nodeinfo.diaspora.software), which crawlers and fediverse directories read to learn what
software a server runs, whether it takes sign-ups and how busy it is.

Parvis does not federate, so `protocols` and `services` are empty lists (the 2.x schemas ask
for at least one protocol; an empty list is the honest answer and what crawlers skip). The
counts are the ones /api/v1/instance shows (`instance.instance_usage`). Field names are
NodeInfo's own camelCase.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import JSONResponse
from typing_extensions import TypedDict

from parvis import __version__
from parvis.api.instance import instance_usage
from parvis.runtime import Runtime, get_runtime

router = APIRouter(tags=["instance"])
SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{version}"
VERSIONS = ("2.0", "2.1")
SOFTWARE_NAME = "parvis"  # NodeInfo: lower-case letters, digits and dashes only


class NodeInfoLink(TypedDict):
    """One schema version and where its document is."""

    rel: str
    href: str


class NodeInfoDiscovery(TypedDict):
    """The /.well-known/nodeinfo JRD document."""

    links: list[NodeInfoLink]


class Software(TypedDict):
    """The software the server runs."""

    name: str
    version: str


class Services(TypedDict):
    """Third-party sites the server can import from or publish to (none)."""

    inbound: list[str]
    outbound: list[str]


class Users(TypedDict):
    """Member counts: everyone, and those active in the last 180 and 30 days."""

    total: int
    activeHalfyear: int
    activeMonth: int


class NodeUsage(TypedDict):
    """How many members and local posts the server has."""

    users: Users
    localPosts: int


class Metadata(TypedDict):
    """Free-form details: the instance's name and description."""

    nodeName: str
    nodeDescription: str


class NodeInfo(TypedDict):
    """A NodeInfo 2.0 or 2.1 document (2.1 only adds optional software fields)."""

    version: str
    software: Software
    protocols: list[str]
    services: Services
    openRegistrations: bool
    usage: NodeUsage
    metadata: Metadata


class NodeInfo20Response(JSONResponse):
    """JSON with the NodeInfo 2.0 profile, as the specification asks."""

    media_type = f'application/json; profile="{SCHEMA.format(version="2.0")}#"'


class NodeInfo21Response(JSONResponse):
    """JSON with the NodeInfo 2.1 profile."""

    media_type = f'application/json; profile="{SCHEMA.format(version="2.1")}#"'


@router.get("/.well-known/nodeinfo")
def discovery(runtime: Runtime = Depends(get_runtime)) -> NodeInfoDiscovery:
    """Where this server's NodeInfo documents are, one link per schema version."""
    base = runtime.settings.base_url
    return {
        "links": [
            {"rel": SCHEMA.format(version=v), "href": f"{base}/nodeinfo/{v}"} for v in VERSIONS
        ]
    }


def nodeinfo(runtime: Runtime, version: str) -> NodeInfo:
    """The NodeInfo document of `version`: software, sign-ups and usage counts."""
    settings = runtime.settings
    with runtime.db.session() as session:
        usage = instance_usage(session, runtime.db)
    return {
        "version": version,
        "software": {"name": SOFTWARE_NAME, "version": __version__},
        "protocols": [],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": settings.registrations_open,
        "usage": {
            "users": {
                "total": usage.users,
                "activeHalfyear": usage.active_half_year,
                "activeMonth": usage.active_month,
            },
            "localPosts": usage.statuses,
        },
        "metadata": {
            "nodeName": settings.instance_name,
            "nodeDescription": settings.instance_description,
        },
    }


@router.get("/nodeinfo/2.0", response_class=NodeInfo20Response)
def nodeinfo_20(runtime: Runtime = Depends(get_runtime)) -> NodeInfo:
    """The NodeInfo 2.0 document."""
    return nodeinfo(runtime, "2.0")


@router.get("/nodeinfo/2.1", response_class=NodeInfo21Response)
def nodeinfo_21(runtime: Runtime = Depends(get_runtime)) -> NodeInfo:
    """The NodeInfo 2.1 document."""
    return nodeinfo(runtime, "2.1")
